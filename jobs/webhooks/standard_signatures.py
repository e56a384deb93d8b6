"""Standard Webhooks signatures (the scheme behind Svix), beside Taskyard's own ``X-Taskyard-Signature``.

Every delivery also carries the three headers of https://www.standardwebhooks.com, so a receiver can
verify it with a library instead of code of its own (``standardwebhooks``, ``svix``, and their ports):

- ``webhook-id``: the delivery id, the same on every retry of a delivery (receivers dedupe on it);
- ``webhook-timestamp``: Unix seconds when this attempt was signed;
- ``webhook-signature``: ``v1,`` + base64 of HMAC-SHA256 over ``"{webhook-id}.{webhook-timestamp}.{body}"``.

The HMAC key: an endpoint secret in the scheme's own format, ``whsec_`` + base64 (what we generate when a
registration gives no secret), signs with its base64-decoded bytes, so ``Webhook(secret)`` verifies as
is. An older free-form secret signs with its UTF-8 bytes: receivers pass ``Webhook(secret.encode())``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
SECRET_BYTES = 24  # 192-bit generated secrets (the scheme asks for 24 to 64 bytes)


def generate_secret() -> str:
    """A new endpoint secret in the scheme's format: ``whsec_`` + base64 of 24 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def is_standard(secret: str) -> bool:
    return secret.startswith(PREFIX)


def signing_key(secret: str) -> bytes:
    """The HMAC key of ``secret`` (see the module docstring). Raises ValueError for a ``whsec_`` secret
    that is not base64 (registration refuses those)."""
    if not is_standard(secret):
        return secret.encode()
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except binascii.Error:
        raise ValueError("a whsec_ secret is whsec_ followed by base64") from None
    if not key:
        raise ValueError("a whsec_ secret needs key bytes after the prefix")
    return key


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }
