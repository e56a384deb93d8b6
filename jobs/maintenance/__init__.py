"""What the maintenance jobs (:mod:`jobs.builtin.maintenance`) run: token purge, health metrics, alerts."""
