"""Encryption at rest for secrets Taskyard must read back (webhook secrets, OAuth client secrets and tokens).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) through ``MultiFernet`` so keys rotate:
``ENCRYPTION_KEY`` holds one or more comma-separated Fernet keys (``Fernet.generate_key()``); the first
encrypts, all of them decrypt. Rotate by putting a new key first and keeping the old ones until
:meth:`Cipher.rotate` has re-encrypted the data. Without ``ENCRYPTION_KEY`` the key is derived from
``SECRET_KEY`` (SHA-256 of a fixed label and the secret), so a deployment with a SECRET_KEY works out of
the box; changing SECRET_KEY then makes stored secrets unreadable. With neither, encryption refuses.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from jobs.settings import Settings

DERIVATION_LABEL = b"taskyard-encryption-v1:"  # changing it makes every stored secret unreadable


class EncryptionUnavailable(RuntimeError):
    """Neither ENCRYPTION_KEY nor SECRET_KEY is set, or a key is malformed."""


class DecryptionFailed(ValueError):
    """The ciphertext was not made with any of the configured keys (or was tampered with)."""


def derived_key(secret_key: str) -> bytes:
    """The Fernet key derived from SECRET_KEY."""
    return base64.urlsafe_b64encode(hashlib.sha256(DERIVATION_LABEL + secret_key.encode()).digest())


class Cipher:
    """Encrypts and decrypts short strings with the deployment's keys."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise EncryptionUnavailable("set ENCRYPTION_KEY (or SECRET_KEY) to store secrets")
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys])
        except ValueError as error:
            raise EncryptionUnavailable(f"ENCRYPTION_KEY: not a Fernet key ({error})") from None

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise DecryptionFailed("cannot decrypt: the key that encrypted this is not configured") from None

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt with the first (newest) key."""
        return self._fernet.rotate(ciphertext.encode()).decode()


def cipher(settings: Settings) -> Cipher:
    """The deployment's cipher: ENCRYPTION_KEY's keys, else one derived from SECRET_KEY."""
    if settings.access.encryption_key:
        return Cipher(
            [part.strip().encode() for part in settings.access.encryption_key.split(",") if part.strip()]
        )
    if settings.access.secret_key:
        return Cipher([derived_key(settings.access.secret_key)])
    return Cipher([])
