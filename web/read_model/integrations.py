"""OAuth integrations as the REST API and the pages read them, never their secrets or tokens.

The one place ``web/`` reads :class:`jobs.integrations.store.IntegrationStore`. Reading needs the
encryption key (the store decrypts on demand): without one the API answers 409
``encryption_unavailable`` and the integrations page says so instead of listing. Changes go through
:mod:`web.commands.integrations`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from redis import Redis

from jobs.crypto import EncryptionUnavailable, cipher
from jobs.integrations.store import Integration as Integration
from jobs.integrations.store import IntegrationStore, refresh_due
from jobs.settings import Settings
from web.errors import ApiError

ID_PATTERN = re.compile(r"^int_[0-9a-f]{16}$")


def store(connection: Redis, settings: Settings) -> IntegrationStore:
    """The integration store, or a 409 ApiError when no encryption key is configured."""
    try:
        return IntegrationStore(connection, cipher(settings))
    except EncryptionUnavailable as error:
        raise ApiError(409, "encryption_unavailable", str(error)) from None


def integration(
    connection: Redis, settings: Settings, integration_id: str, tenant_id: str | None = None
) -> Integration:
    """The integration (of ``tenant_id``, when given), or a 404 ApiError."""
    found = store(connection, settings).get(integration_id) if ID_PATTERN.match(integration_id) else None
    if found is None or (tenant_id is not None and found.tenant_id != tenant_id):
        raise ApiError(404, "integration_not_found", f"no integration {integration_id!r}")
    return found


def integrations(connection: Redis, settings: Settings, tenant_id: str | None = None) -> list[Integration]:
    """Every integration (of ``tenant_id``, when given)."""
    return [i for i in store(connection, settings).all() if tenant_id is None or i.tenant_id == tenant_id]


def with_next_refresh(connection: Redis, settings: Settings) -> list[dict[str, Any]]:
    """Every integration's public view with ``next_refresh``: when its refresh job is due (ISO 8601 UTC).
    Raises :class:`EncryptionUnavailable` without a key (the page shows the reason instead)."""
    from web.api.integrations import IntegrationView  # what an integration shows, said once (no cycle)

    items = []
    for found in IntegrationStore(connection, cipher(settings)).all():
        view = IntegrationView.of(found)
        due = refresh_due(found.expires_at, settings.oauth.refresh_lead)
        view["next_refresh"] = datetime.fromtimestamp(due, UTC).isoformat(timespec="seconds")
        items.append(view)
    return items
