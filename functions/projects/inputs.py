"""Project bodies: a name and an optional description; an edit changes only what it carries."""

from __future__ import annotations

from typing import Annotated

import msgspec

ProjectName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
ProjectDescription = Annotated[str, msgspec.Meta(max_length=2000)]


class ProjectCreate(msgspec.Struct, forbid_unknown_fields=False):
    name: ProjectName
    description: ProjectDescription | None = None


class ProjectUpdate(msgspec.Struct, forbid_unknown_fields=False):
    name: ProjectName | None = None
    description: ProjectDescription | None = None
