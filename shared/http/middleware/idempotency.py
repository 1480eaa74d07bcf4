"""`Idempotency-Key` on POST, PUT, PATCH and DELETE: the work is done once, the answer replayed.

The router replays a POST carrying `Idempotency-Key` after a 502/503/504 or a reset, and clients
retry after timeouts; without records here a comment, a like notification or a download (and its
quota) could happen twice. Per caller (a hash of the `Authorization` header, or the client address
without one) and key, `idempotency_keys` keeps a hash of the request and, once answered, the answer,
for `IDEMPOTENCY_TTL_S` (24 h):
- a new key: the request runs; its answer is stored (a 5xx whose work never committed is not: the
  key is released so a retry can do the work);
- the same key and request again: the stored answer, with `Idempotent-Replayed: true`; while the
  first is still running, 409 with Retry-After;
- the same key with another request: 422.
The work's own transaction marks the record committed (`shared.db.transaction`, through
`current_record`), so a worker that dies between its commit and its answer leaves a record that
says so: a replay then gets 409 `idempotency_key_committed` instead of doing the work again. A
record whose work never committed and whose worker went silent for `_TAKEOVER_S` is taken over.

Bodies up to `MAX_JSON_BYTES` are hashed whole; larger (streamed uploads) by method, path, query,
type and length only, so they are never buffered here.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.config import get_settings
from shared.db import connection, current_idempotency_record
from shared.http.errors import ApiError

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_TAKEOVER_S = 120  # longer than any request may run (DB statement timeout, router deadline)
_MAX_STORED_BODY = 1024 * 1024
_EXPIRE_EVERY_S = 60.0

_CLAIM = """
INSERT INTO idempotency_keys (scope, key, request_hash) VALUES (%(scope)s, %(key)s, %(hash)s)
ON CONFLICT (scope, key) DO NOTHING RETURNING 1
"""
_EXISTING = """
SELECT request_hash, committed, status, headers, body,
       EXTRACT(EPOCH FROM now() - created_at)::float8 AS age_s
  FROM idempotency_keys WHERE scope = %(scope)s AND key = %(key)s
"""
_RELEASE = "DELETE FROM idempotency_keys WHERE scope = %(scope)s AND key = %(key)s AND status IS NULL"
_TAKE_OVER = """
DELETE FROM idempotency_keys WHERE scope = %(scope)s AND key = %(key)s
   AND (status IS NULL AND NOT committed AND created_at < now() - make_interval(secs => %(takeover)s)
        OR created_at < now() - make_interval(secs => %(ttl)s))
"""
_ANSWERED = """
UPDATE idempotency_keys SET status = %(status)s, headers = %(headers)s, body = %(body)s,
       committed = committed OR %(status)s < 500
 WHERE scope = %(scope)s AND key = %(key)s
"""
_EXPIRE = "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => %(ttl)s)"
_REPLAYED_HEADERS = ("content-type", "location", "content-language")


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._next_expiry = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key") if scope.get("method") in WRITE_METHODS else None
        if key is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not 1 <= len(key) <= 255:
            raise ApiError("validation", errors=[{"field": "Idempotency-Key", "message": "1 to 255 characters"}])
        receive, body_hash = await _hashed_body(scope, receive)
        record = {"scope": _caller(scope), "key": key, "hash": body_hash}
        await self._expire_old()
        if not await self._claim(record):
            await self._answer_existing(record, send)
            return
        await self._run(record, scope, receive, send)

    async def _claim(self, record: dict[str, Any]) -> bool:
        settings = get_settings()
        async with connection() as conn:
            if await (await conn.execute(_CLAIM, record)).fetchone():
                return True
            await conn.execute(_TAKE_OVER, {**record, "takeover": _TAKEOVER_S, "ttl": settings.idempotency_ttl_s})
            return bool(await (await conn.execute(_CLAIM, record)).fetchone())

    async def _answer_existing(self, record: dict[str, Any], send: Send) -> None:
        async with connection() as conn:
            row = await (await conn.execute(_EXISTING, record)).fetchone()
        if row is None:  # expired and removed between the two statements
            raise ApiError("conflict", "idempotency_key_in_progress", headers={"Retry-After": "1"})
        if bytes(row["request_hash"]) != record["hash"]:
            raise ApiError("idempotency_key_reused", errors=[
                {"field": "Idempotency-Key", "message": "already used for a different request"}])
        if row["status"] is None:
            reason = "idempotency_key_committed" if row["committed"] else "idempotency_key_in_progress"
            raise ApiError("conflict", reason, headers={"Retry-After": "1"})
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (row["headers"] or [])]
        headers.append((b"idempotent-replayed", b"true"))
        await send({"type": "http.response.start", "status": row["status"], "headers": headers})
        await send({"type": "http.response.body", "body": bytes(row["body"] or b"")})

    async def _run(self, record: dict[str, Any], scope: Scope, receive: Receive, send: Send) -> None:
        answer: dict[str, Any] = {"status": None, "headers": [], "body": bytearray()}

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["headers"] = [
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])
                    if k.decode("latin-1").lower() in _REPLAYED_HEADERS
                ]
            elif message["type"] == "http.response.body" and len(answer["body"]) <= _MAX_STORED_BODY:
                answer["body"] += message.get("body", b"")
            await send(message)

        token = current_idempotency_record.set((record["scope"], record["key"]))
        try:
            await self.app(scope, receive, recording_send)
        except BaseException:
            await self._release(record)
            raise
        finally:
            current_idempotency_record.reset(token)
        status, storable = answer["status"], len(answer["body"]) <= _MAX_STORED_BODY
        if status is None or status >= 500 or not storable:
            await self._release(record)  # removed unless the work committed
        if status is None or not storable:
            return
        async with connection() as conn:  # a released record is gone: this updates nothing then
            await conn.execute(_ANSWERED, {
                **record, "status": status, "headers": json.dumps(answer["headers"]), "body": bytes(answer["body"]),
            })

    async def _release(self, record: dict[str, Any]) -> None:
        """Let a retry do the work again, unless the work committed (then the record stays)."""
        async with connection() as conn:
            await conn.execute(_RELEASE + " AND NOT committed", record)

    async def _expire_old(self) -> None:
        now = time.monotonic()
        if now < self._next_expiry:
            return
        self._next_expiry = now + _EXPIRE_EVERY_S
        async with connection() as conn:
            await conn.execute(_EXPIRE, {"ttl": get_settings().idempotency_ttl_s})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1").strip()
    return None


def _caller(scope: Scope) -> str:
    """Whose key this is: a hash of the bearer token (never stored in clear), or the client address."""
    authorization = _header(scope, b"authorization")
    if authorization:
        return "token:" + hashlib.sha256(authorization.encode("latin-1")).hexdigest()[:40]
    return "address:" + (scope.get("client") or ("unknown", 0))[0]


async def _hashed_body(scope: Scope, receive: Receive) -> tuple[Receive, bytes]:
    """The request's hash, and a `receive` that replays the body read to compute it."""
    digest = hashlib.sha256()
    for part in (scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"),
                 _header(scope, b"content-type") or ""):
        digest.update(part.encode("latin-1") + b"\0")
    length = _header(scope, b"content-length")
    if length is None or not length.isdigit() or int(length) > get_settings().max_json_bytes:
        digest.update(b"streamed:" + (length or "").encode())
        return receive, digest.digest()
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        digest.update(message.get("body", b""))
        if not message.get("more_body", False):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay, digest.digest()
