"""Protecting what jobs call: circuit breakers per host, rate limits, throttled tasks, batches with partial failure."""
