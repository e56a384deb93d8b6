"""Taskyard's base layer: settings, the Redis connection, the task registry, retry policies,
the built-in jobs and the worker. Nothing here imports Flask."""
