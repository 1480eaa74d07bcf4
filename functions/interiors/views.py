"""Unique views: once per signed-in user, or per (client ip, user agent) for visitors.

Counting never delays the read: the route attaches `record_view` as a background task that runs
after the response is sent, and the insert is `ON CONFLICT DO NOTHING` on (interior, viewer), so a
repeat view costs one index probe and no counter write.
"""

from __future__ import annotations

import hashlib
import logging
import uuid

from functions.interiors.queries import INSERT_VIEW
from shared.auth.guard import CurrentUser
from shared.config import get_settings
from shared.db import execute

log = logging.getLogger("tridmo.community")


def client_ip(peer: str, forwarded_for: str) -> str:
    """The caller's address: X-Forwarded-For is believed only when the direct peer is a trusted proxy.

    Our router appends the peer it saw, so the right-most hop that is not itself a trusted proxy is
    the client; anything to its left was written by the client and is ignored.
    """
    trusted = set(get_settings().trusted_proxies)
    if peer not in trusted and "*" not in trusted:
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return hops[0] if hops else peer


def viewer_key(user: CurrentUser | None, *, peer: str, forwarded_for: str, user_agent: str) -> str:
    """The signed-in user's id, or a UUID digest of the visitor's address and user agent."""
    if user is not None:
        return user.id
    digest = hashlib.md5(f"{client_ip(peer, forwarded_for)}\n{user_agent}".encode(), usedforsecurity=False).digest()
    return str(uuid.UUID(bytes=digest))


async def record_view(interior_id: str, viewer: str) -> None:
    try:
        await execute(INSERT_VIEW, (interior_id, viewer))
    except Exception:  # a lost view is not worth a failed request (it already succeeded)
        log.warning("could not record a view", exc_info=True, extra={"interior_id": interior_id})
