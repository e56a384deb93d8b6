"""The read model: how the REST API and the pages see jobs, queues, tasks, schedules and liveness. Pages and API modules read here; state changes go through :mod:`web.commands`."""
