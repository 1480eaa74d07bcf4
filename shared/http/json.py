"""JSON responses encoded with msgspec: several times faster than the stdlib for list pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from starlette.background import BackgroundTask
from starlette.responses import Response

# msgspec encodes UUIDs, datetimes, sets and tuples itself; Decimals (numeric columns) as numbers.
_encoder = msgspec.json.Encoder(decimal_format="number")


def dumps(content: Any) -> bytes:
    return _encoder.encode(content)


class JSONResponse(Response):
    media_type = "application/json"

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(content, status_code, headers, self.media_type, background)

    def render(self, content: Any) -> bytes:
        return dumps(content)
