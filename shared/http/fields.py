"""Reusable constrained field types for request bodies (msgspec `Annotated` metadata)."""

from __future__ import annotations

from typing import Annotated

import msgspec

Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=128)]
FullName = Annotated[str, msgspec.Meta(min_length=5, max_length=100)]
Username = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{3,60}$")]
ShortText = Annotated[str, msgspec.Meta(max_length=200)]
Url = Annotated[str, msgspec.Meta(max_length=300, pattern=r"^(https?://\S+)?$")]
