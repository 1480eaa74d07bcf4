"""The glue between python-multipart's synchronous callbacks and the async form reader.

Callbacks only record events (part headers, data slices, part end); `dispatch` then replays them on the
reader with `await`, after each chunk is fed, so backpressure from storage reaches the socket.
"""

from __future__ import annotations

from typing import Any, Protocol

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from shared.storage.errors import MalformedForm, UnsupportedType


class _Reader(Protocol):
    async def begin(self, headers: dict[str, str]) -> None: ...
    async def data(self, chunk: bytes) -> None: ...
    async def end(self) -> None: ...


class PartEvents:
    def __init__(self) -> None:
        self.queue: list[tuple[str, Any]] = []
        self.finished = False
        self._headers: dict[str, str] = {}
        self._field = bytearray()
        self._value = bytearray()

    # python-multipart callbacks (synchronous) -----------------------------------------------------
    def on_part_begin(self) -> None:
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        name = self._field.decode("latin-1").strip().lower()
        self._headers[name] = self._value.decode("utf-8", "replace").strip()
        self._field, self._value = bytearray(), bytearray()

    def on_headers_finished(self) -> None:
        self.queue.append(("begin", self._headers))

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if end > start:
            self.queue.append(("data", data[start:end]))

    def on_part_end(self) -> None:
        self.queue.append(("end", None))

    def on_end(self) -> None:
        self.finished = True

    def callbacks(self) -> dict[str, Any]:
        names = [
            "on_part_begin",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
            "on_part_end",
            "on_end",
        ]
        return {name: getattr(self, name) for name in names}

    async def dispatch(self, reader: _Reader) -> None:
        queue, self.queue = self.queue, []
        for kind, payload in queue:
            if kind == "begin":
                await reader.begin(payload)
            elif kind == "data":
                await reader.data(payload)
            else:
                await reader.end()


def make_parser(content_type: str, events: PartEvents) -> Any:
    mime, options = parse_options_header(content_type or "")
    if mime != b"multipart/form-data":
        raise UnsupportedType("expected a multipart/form-data body")
    boundary = options.get(b"boundary")
    if not boundary:
        raise MalformedForm("the multipart body has no boundary")
    try:
        return MultipartParser(boundary, events.callbacks())
    except Exception as exc:
        raise MalformedForm(f"invalid multipart boundary: {exc}") from None


def part_meta(headers: dict[str, str]) -> tuple[str, str | None]:
    """(field name, filename or None) from a part's Content-Disposition."""
    disposition, options = parse_options_header(headers.get("content-disposition", ""))
    if disposition != b"form-data":
        raise MalformedForm("a form part is not form-data")
    name = options.get(b"name", b"").decode("utf-8", "replace")
    filename = options.get(b"filename")
    return name, None if filename is None else filename.decode("utf-8", "replace")


def as_form_error(exc: BaseException) -> MalformedForm | None:
    """Parser errors and client disconnects are the client's fault: a 400, never a 500."""
    if isinstance(exc, FormParserError):
        return MalformedForm(f"malformed multipart body: {exc}")
    if isinstance(exc, ClientDisconnect):
        return MalformedForm("the client disconnected before the form body was complete")
    return None
