"""Reading write requests: JSON, url-encoded or streamed multipart (files go straight to storage).

`read_write(request, Model, files=...)` returns the validated body and the `StreamedForm` (or None).
If validation fails after files were stored, they are deleted before the 400 goes out, so a bad
request never leaves objects behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request

from shared.http.errors import ApiError, FieldError
from shared.http.forms import parse_streamed_form
from shared.http.validation import array_values, convert, parse_body

T = TypeVar("T")


def form_fields(fields: Mapping[str, list[str]], arrays: tuple[str, ...]) -> dict[str, Any]:
    """Form values as a dict: array fields from repeated keys or a JSON array; empty values dropped."""
    out: dict[str, Any] = {}
    for raw_name, values in fields.items():
        name = raw_name[:-2] if raw_name.endswith("[]") else raw_name
        if name in arrays:
            out.setdefault(name, []).extend(array_values(name, values))
        elif values and values[-1] != "":
            out[name] = values[-1]
    return out


def json_arrays(raw: dict[str, Any], arrays: tuple[str, ...]) -> dict[str, Any]:
    """JSON bodies may also carry arrays as a JSON string (`"[1,2]"`), as the old clients send."""
    for name in arrays:
        value = raw.get(name)
        if isinstance(value, str | int):
            raw[name] = array_values(name, [str(value)])
    return raw


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith("multipart/form-data")


async def read_write(
    request: Request, model: type[T], *, files: Mapping[str, Any] | None = None, arrays: tuple[str, ...] = ()
) -> tuple[T, Any | None]:
    if is_multipart(request):
        if not files:
            raise ApiError("unsupported_media_type", errors=[FieldError("content-type", "expected application/json")])
        form = await parse_streamed_form(request, files=files)
        try:
            return convert(form_fields(form.fields, arrays), model), form
        except BaseException:
            await form.cleanup()
            raise
    if arrays:
        raw = await parse_body(request, dict)
        return convert(json_arrays(raw, arrays), model), None
    return await parse_body(request, model), None


def set_fields(body: Any) -> dict[str, Any]:
    """The fields a PUT body actually carries (UNSET ones are left alone)."""
    return {k: v for k, v in msgspec.structs.asdict(body).items() if v is not msgspec.UNSET}
