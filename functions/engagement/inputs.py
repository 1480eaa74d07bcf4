"""Engagement inputs: save and comment bodies, and comment text cleaned to what is stored.

Text: tags are removed with nh3 (script/style content dropped); `<` and `>` stay escaped so the
text is safe even where a client renders it as HTML, while `&` is kept literal so plain-text clients
show what the user typed. Length is checked after sanitising: 1..2048.
"""

from __future__ import annotations

import re
from typing import Annotated

import msgspec
import nh3

from shared.http.errors import ApiError, FieldError

RawText = Annotated[str, msgspec.Meta(min_length=1, max_length=20000)]
MAX_TEXT = 2048
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class SaveModelBody(msgspec.Struct, forbid_unknown_fields=False):
    model_id: str


class SaveInteriorBody(msgspec.Struct, forbid_unknown_fields=False):
    interior_id: str


class CommentBody(msgspec.Struct, forbid_unknown_fields=False):
    entity_id: str
    text: RawText
    entity_source: str | None = None
    parent_id: str | None = None


class CommentEdit(msgspec.Struct, forbid_unknown_fields=False):
    text: RawText


def sanitize(text: str) -> str:
    cleaned = nh3.clean(_CONTROL.sub("", text), tags=set()).replace("&amp;", "&").strip()
    if not cleaned:
        raise ApiError("validation", errors=[FieldError("text", "must not be empty")])
    if len(cleaned) > MAX_TEXT:
        raise ApiError("validation", errors=[FieldError("text", f"at most {MAX_TEXT} characters")])
    return cleaned
