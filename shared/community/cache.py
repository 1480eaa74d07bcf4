"""A small per-process TTL cache: safe to lose, one query per key per period however many callers."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from shared.config import get_settings


class TTLCache:
    """Per-process results for a few seconds; concurrent misses for one key run the query once."""

    def __init__(self, ttl: float | None = None, *, env_name: str = "", default_ttl: float = 10.0,
                 max_entries: int = 2000) -> None:
        self._ttl = ttl
        self.env_name = env_name
        self.default_ttl = default_ttl
        self.max_entries = max_entries
        self.values: dict[Any, tuple[float, Any]] = {}
        self.locks: dict[Any, asyncio.Lock] = {}

    @property
    def ttl(self) -> float:
        if self._ttl is None:
            raw = get_settings().raw.get(self.env_name, "") if self.env_name else ""
            self._ttl = float(raw) if raw else self.default_ttl
        return self._ttl

    def peek(self, key: Any) -> Any:
        """The cached value if still fresh, else None (never computes)."""
        hit = self.values.get(key)
        return hit[1] if hit and hit[0] > time.monotonic() else None

    async def get(self, key: Any, compute: Any) -> Any:
        if self.ttl <= 0:
            return await compute()
        hit = self.values.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        # asyncio locks belong to a loop; Lambda and tests may run more than one in a process
        lock = self.locks.setdefault((id(asyncio.get_running_loop()), key), asyncio.Lock())
        async with lock:
            hit = self.values.get(key)
            if hit and hit[0] > time.monotonic():
                return hit[1]
            value = await compute()
            if len(self.values) >= self.max_entries:
                self.values.clear()
                self.locks = {}
            self.values[key] = (time.monotonic() + self.ttl, value)
            return value

    def clear(self) -> None:
        self.values.clear()
        if self.env_name:
            self._ttl = None
