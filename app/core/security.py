"""API keys: `tfk_<key id>_<secret>`; only a salted SHA-256 of the secret is stored.

The secret is 256 random bits, so a fast salted hash is the right tool (as for GitHub or Stripe
tokens): slow password hashes exist for low-entropy secrets and would add tens of milliseconds to every
request. Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

PREFIX = "tfk_"
KEY_ID_HEX = 16


@dataclass(frozen=True)
class NewApiKey:
    key_id: str
    secret: str
    salt: bytes
    secret_hash: bytes

    @property
    def token(self) -> str:
        return f"{PREFIX}{self.key_id}_{self.secret}"


def new_api_key() -> NewApiKey:
    key_id = secrets.token_hex(KEY_ID_HEX // 2)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    return NewApiKey(key_id, secret, salt, hash_secret(salt, secret))


def hash_secret(salt: bytes, secret: str) -> bytes:
    return hashlib.sha256(salt + secret.encode()).digest()


def parse_token(token: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed token, else None."""
    if not token.startswith(PREFIX) or len(token) < len(PREFIX) + KEY_ID_HEX + 2:
        return None
    key_id, sep, secret = token[len(PREFIX) :].partition("_")
    if sep != "_" or len(key_id) != KEY_ID_HEX or not secret:
        return None
    return key_id, secret


def secret_matches(salt: bytes, secret: str, expected: bytes) -> bool:
    return hmac.compare_digest(hash_secret(salt, secret), expected)
