"""What operators and probes read: ``/metrics`` (Prometheus) and ``/healthz``."""
