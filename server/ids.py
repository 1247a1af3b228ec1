"""Server-made identifiers and secrets."""

from __future__ import annotations

import hashlib
import secrets


def new_id(prefix: str) -> str:
    """An opaque id with a type prefix, e.g. `ord_3f9c...` (96 random bits)."""
    return f"{prefix}_{secrets.token_hex(12)}"


def new_token(prefix: str) -> str:
    """A bearer secret (256 random bits), URL-safe."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_token(token: str) -> str:
    """Tokens are long random strings, so one SHA-256 is the right way to keep them."""
    return hashlib.sha256(token.encode()).hexdigest()
