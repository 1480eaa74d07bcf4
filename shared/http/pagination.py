"""The contract's pagination: page/limit/orderBy/order, plus keyset cursors for deep lists.

Offset paging is what the existing clients use (`current`/`next` are 0-based indexes). Deep pages
by offset make PostgreSQL walk and discard rows, so lists users scroll far also accept `cursor`:
the last row's (sort value, id), encoded opaquely, which turns page N into an index seek.

Cursors are signed (HMAC with `URL_SIGNING_SECRET`): their values go into SQL as parameters, and a
hand-made one with a value of the wrong type would make PostgreSQL fail the query (a 500); a
cursor we did not issue is a 400 naming `cursor`. Offsets stop at `MAX_OFFSET` rows (a 400 naming
`page`): deeper than that, PostgreSQL walks and discards every row before the page, per request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
from dataclasses import dataclass
from typing import Any

import msgspec
from starlette.requests import Request

from shared.config import get_settings
from shared.http.errors import ApiError, FieldError

DEFAULT_LIMIT = 16
MAX_LIMIT = 100
MAX_OFFSET = 100_000
_SIGNATURE_BYTES = 12


@dataclass(frozen=True)
class PageRequest:
    page: int
    limit: int
    order_key: str
    order_sql: str
    descending: bool
    cursor: tuple[Any, str] | None

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    @property
    def direction(self) -> str:
        return "DESC" if self.descending else "ASC"

    def order_clause(self, id_sql: str) -> str:
        """ORDER BY with the id as tie-breaker, so pages never overlap or skip equal values."""
        return f"{self.order_sql} {self.direction}, {id_sql} {self.direction}"

    def keyset_condition(self, id_sql: str) -> tuple[str, list[Any]]:
        """`(sort, id) < (%s, %s)` for the cursor, or an always-true clause without one."""
        if self.cursor is None:
            return "TRUE", []
        op = "<" if self.descending else ">"
        return f"({self.order_sql}, {id_sql}) {op} (%s, %s)", [self.cursor[0], self.cursor[1]]


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError("validation", errors=[FieldError(name, "expected an integer")]) from None
    if value < 1:
        raise ApiError("validation", errors=[FieldError(name, "must be >= 1")])
    return value


def page_request(
    request: Request, order_columns: dict[str, str], default_order: str = "created_at"
) -> PageRequest:
    """Parse paging parameters; `order_columns` maps the whitelisted names to SQL expressions."""
    page = _int_param(request, "page", 1)
    limit = min(_int_param(request, "limit", DEFAULT_LIMIT), MAX_LIMIT)
    if (page - 1) * limit > MAX_OFFSET:
        message = f"at most {MAX_OFFSET // limit + 1} with limit {limit}; use cursor for deeper pages"
        raise ApiError("validation", errors=[FieldError("page", message)])
    order_key = request.query_params.get("orderBy") or default_order
    if order_key not in order_columns:
        allowed = ", ".join(sorted(order_columns))
        raise ApiError("validation", errors=[FieldError("orderBy", f"must be one of: {allowed}")])
    order = (request.query_params.get("order") or "desc").lower()
    if order not in ("asc", "desc"):
        raise ApiError("validation", errors=[FieldError("order", "must be asc or desc")])
    cursor = decode_cursor(request.query_params.get("cursor"), order_key)
    return PageRequest(page, limit, order_key, order_columns[order_key], order == "desc", cursor)


def _signature(payload: bytes) -> bytes:
    key = get_settings().url_signing_secret.encode()
    return hmac.new(key, b"cursor:" + payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def encode_cursor(order_key: str, value: Any, row_id: Any) -> str:
    if hasattr(value, "isoformat"):
        value = value.isoformat()
    payload = msgspec.json.encode([order_key, value, str(row_id)])
    return base64.urlsafe_b64encode(_signature(payload) + payload).decode().rstrip("=")


def decode_cursor(token: str | None, order_key: str) -> tuple[Any, str] | None:
    if not token:
        return None
    malformed = ApiError("validation", errors=[FieldError("cursor", "malformed cursor")])
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        raise malformed from None
    signature, payload = raw[:_SIGNATURE_BYTES], raw[_SIGNATURE_BYTES:]
    if not hmac.compare_digest(signature, _signature(payload)):
        raise malformed
    key, value, row_id = msgspec.json.decode(payload)  # ours, so well-formed
    if key != order_key:
        raise ApiError("validation", errors=[FieldError("cursor", "cursor belongs to another orderBy")])
    return value, row_id


def pagination(page: PageRequest, total: int, next_cursor: str | None = None) -> dict[str, Any]:
    pages = math.ceil(total / page.limit) if page.limit else 0
    block: dict[str, Any] = {
        "data_count": total,
        "pages": pages,
        "current": page.page - 1,
        "next": page.page if page.page < pages else None,
        "limit": page.limit,
    }
    if next_cursor is not None or page.cursor is not None:
        block["next_cursor"] = next_cursor
    return block
