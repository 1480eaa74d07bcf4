"""Password hashing with argon2id (argon2-cffi), run off the event loop: a hash takes ~20-50 ms."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _hasher() -> Any:
    from argon2 import PasswordHasher  # heavy: ~50 ms of import, paid by the first password check

    # OWASP's minimum argon2id profile: 19 MiB, 2 iterations, 1 lane.
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher().hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-ish time: an unknown user is checked against a dummy hash, so timing tells nothing."""
    from argon2.exceptions import InvalidHashError, VerificationError  # heavy: as in `_hasher`

    target = password_hash or _dummy_hash()
    try:
        await asyncio.to_thread(_hasher().verify, target, password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("dummy password for unknown users")
