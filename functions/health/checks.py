"""Readiness: the database and storage, each under a short timeout, as named states.

Kept apart from the routes so the checks read as plain calls; liveness never comes here, so it
never touches the database.
"""

from __future__ import annotations

import asyncio

from functions.health.queries import ping_database
from shared.storage import get_storage

READY_TIMEOUT_S = 2.0


async def storage_states() -> dict[str, str]:
    """Storage readiness per component (primary, and replica when configured)."""
    result = await get_storage().check()
    return {name: ("ok" if status else f"failing: {getattr(status, 'detail', '')}".rstrip(": "))
            for name, status in result.items()}


async def readiness_checks() -> tuple[dict[str, str], list[str]]:
    """Every check's state, and the failing parts that make us not ready."""
    checks: dict[str, str] = {}
    failing: list[str] = []
    try:
        await asyncio.wait_for(ping_database(READY_TIMEOUT_S), READY_TIMEOUT_S)
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "failing"
        failing.append("database")
    try:
        storage = await asyncio.wait_for(storage_states(), READY_TIMEOUT_S)
    except Exception:
        storage = {"storage": "failing"}
    for name, state in storage.items():
        checks[f"storage.{name}" if name != "storage" else name] = state
        if state != "ok" and name != "replica":  # a replica outage degrades, it does not stop us
            failing.append(f"storage.{name}" if name != "storage" else name)
    return checks, failing
