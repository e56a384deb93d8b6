"""API tokens: role-carrying bearer secrets stored hashed in Redis.

The secret is shown once at creation; Redis keeps only its SHA-256. ``ADMIN_TOKEN`` from the
environment is the bootstrap admin and is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from redis import Redis
from rq.utils import as_text

from jobs import keys

ROLES = ("viewer", "admin")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token id (``bootstrap`` for ADMIN_TOKEN) and its role."""

    token_id: str
    role: str
    name: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class TokenRecord:
    id: str
    name: str
    role: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    digest: str

    def usable(self, at: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or datetime.fromisoformat(self.expires_at) > at

    def expired(self, at: datetime) -> bool:
        """Past its expiry and never revoked (a revoked token counts as revoked, not expired)."""
        return (
            self.revoked_at is None
            and self.expires_at is not None
            and datetime.fromisoformat(self.expires_at) <= at
        )

    def revoked_before(self, cutoff: datetime) -> bool:
        return self.revoked_at is not None and datetime.fromisoformat(self.revoked_at) <= cutoff


def parse_record(raw: bytes | str) -> TokenRecord:
    """A record as :class:`TokenStore` writes it in ``keys.TOKENS`` (JSON): the one reader of the format."""
    return TokenRecord(**json.loads(raw))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenStore:
    """Create, find, list, revoke and remove tokens (:mod:`jobs.maintenance.token_purge` removes the
    expired and long-revoked ones)."""

    def __init__(self, connection: Redis, admin_token: str | None) -> None:
        self.connection = connection
        self.admin_token = admin_token

    def create(
        self, name: str, role: str, expires_at: datetime | None, now: datetime
    ) -> tuple[TokenRecord, str]:
        """Store a new token; return the record and the secret (shown to the caller once)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        secret = "ty_" + secrets.token_urlsafe(32)
        record = TokenRecord(
            id=secrets.token_hex(8),
            name=name,
            role=role,
            created_at=now.isoformat(),
            expires_at=expires_at.astimezone(UTC).isoformat() if expires_at else None,
            revoked_at=None,
            digest=digest(secret),
        )
        with self.connection.pipeline() as pipe:
            pipe.hset(keys.TOKENS, record.id, json.dumps(asdict(record)))
            pipe.hset(keys.TOKEN_INDEX, record.digest, record.id)
            pipe.execute()
        return record, secret

    def get(self, token_id: str) -> TokenRecord | None:
        raw = self.connection.hget(keys.TOKENS, token_id)
        return parse_record(raw) if raw else None

    def all(self) -> list[TokenRecord]:
        records = [parse_record(raw) for raw in self.connection.hvals(keys.TOKENS)]
        return sorted(records, key=lambda r: r.created_at)

    def revoke(self, token_id: str, now: datetime) -> TokenRecord | None:
        """Mark a token revoked (it stops working at once; the record stays for audit)."""
        record = self.get(token_id)
        if record is None:
            return None
        if record.revoked_at is None:
            record = TokenRecord(**{**asdict(record), "revoked_at": now.isoformat()})
            with self.connection.pipeline() as pipe:
                pipe.hset(keys.TOKENS, record.id, json.dumps(asdict(record)))
                pipe.hdel(keys.TOKEN_INDEX, record.digest)
                pipe.execute()
        return record

    def remove(self, record: TokenRecord) -> None:
        """Delete the record and its digest's index entry (the token stops working, and is not listed)."""
        with self.connection.pipeline() as pipe:
            pipe.hdel(keys.TOKENS, record.id)
            pipe.hdel(keys.TOKEN_INDEX, record.digest)
            pipe.execute()

    def authenticate(self, secret: str, now: datetime) -> Principal | None:
        """The principal for a presented secret, or None when it is unknown, expired or revoked."""
        if self.admin_token and hmac.compare_digest(secret.encode(), self.admin_token.encode()):
            return Principal("bootstrap", "admin", "ADMIN_TOKEN")
        token_id = self.connection.hget(keys.TOKEN_INDEX, digest(secret))
        if token_id is None:
            return None
        record = self.get(as_text(token_id))
        if record is None or not record.usable(now):
            return None
        return Principal(record.id, record.role, record.name)
