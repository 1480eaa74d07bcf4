"""A small per-process TTL cache: safe to lose, one query per key per period however many callers.

`get` makes callers wait for an expired value (one computes, the others wait on its lock);
`stale` never makes a caller wait once a value exists: past its TTL the old value is served while
one background task per key recomputes it (stale-while-revalidate).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
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
        self.refreshing: dict[Any, asyncio.Task[Any]] = {}

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

    def stale(self, key: Any, compute: Callable[[], Awaitable[Any]],
              keep: Callable[[Any], bool] | None = None) -> Any:
        """The cached value, fresh or not (None if there is none); when it has expired, one background
        task per key recomputes it, so no caller waits. `keep(value)` False drops a recomputed value."""
        hit = self.values.get(key)
        if hit is None:
            return None
        if hit[0] <= time.monotonic() and self.ttl > 0:
            task_key = (id(asyncio.get_running_loop()), key)
            if task_key not in self.refreshing:
                self.values[key] = (time.monotonic() + self.ttl, hit[1])  # one refresh per period even if it fails
                task = asyncio.get_running_loop().create_task(self._refresh(key, compute, keep))
                self.refreshing[task_key] = task  # also keeps a strong reference to the task
                task.add_done_callback(lambda _t: self.refreshing.pop(task_key, None))
        return hit[1]

    async def _refresh(self, key: Any, compute: Callable[[], Awaitable[Any]],
                       keep: Callable[[Any], bool] | None) -> None:
        try:
            value = await compute()
        except Exception:  # noqa: BLE001 - a failed refresh keeps serving the old value; the next period retries
            return
        if keep is not None and not keep(value):
            self.values.pop(key, None)
        else:
            self.put(key, value)

    def put(self, key: Any, value: Any) -> None:
        if len(self.values) >= self.max_entries and key not in self.values:
            self.values.clear()
            self.locks = {}
        self.values[key] = (time.monotonic() + self.ttl, value)

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
            self.put(key, value)
            return value

    def clear(self) -> None:
        self.values.clear()
        if self.env_name:
            self._ttl = None
