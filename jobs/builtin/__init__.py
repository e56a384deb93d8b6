"""Built-in tasks. Each module registers its handlers with :func:`jobs.registry.task`."""
