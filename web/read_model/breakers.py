"""Circuit breakers as the REST API and the pages read them: read only, through :meth:`Breaker.peek`
(looking at a breaker never turns an open one half-open nor registers a new name).

A breaker exists once it has been used (:func:`jobs.resilience.breaker.breaker_names`); any other name
is a 404. Resetting one is :mod:`web.commands.breakers`.
"""

from __future__ import annotations

from redis import Redis

from jobs.resilience.breaker import Breaker, Decision, all_breakers, breaker_names
from jobs.settings import Settings
from web.errors import ApiError


def breakers(connection: Redis, settings: Settings) -> list[Decision]:
    """Every breaker that has been used, by name, with its current state."""
    return all_breakers(connection, settings)


def breaker(connection: Redis, settings: Settings, name: str) -> Decision:
    """One breaker's current state, or a 404 ApiError for a name no call has used."""
    if name not in breaker_names(connection):
        raise ApiError(404, "breaker_not_found", f"no circuit breaker {name!r}")
    return Breaker(connection, settings, name).peek()
