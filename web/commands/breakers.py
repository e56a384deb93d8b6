"""Circuit-breaker state changes shared by the REST API and the pages: closing a breaker by hand."""

from __future__ import annotations

from redis import Redis

from jobs.resilience.breaker import Breaker, Decision
from jobs.settings import Settings
from web.read_model.breakers import breaker


def reset(connection: Redis, settings: Settings, name: str) -> Decision:
    """Close the breaker (an operator knows the host is back) and answer its state now; a 404 for a
    name no call has used."""
    breaker(connection, settings, name)
    closing = Breaker(connection, settings, name)
    closing.reset()
    return closing.peek()
