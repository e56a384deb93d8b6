"""Webhooks: endpoints and deliveries (``store``), sending and signing (``delivery``, ``standard_signatures``), their metrics. The jobs that deliver them are in :mod:`jobs.builtin.webhooks`."""
