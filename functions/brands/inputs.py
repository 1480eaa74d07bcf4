"""Brand bodies (create with the brand's admin account, edit) and the logo a form may carry."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec

from shared.http.fields import Email, Password, Url, Username
from shared.http.forms import FileRule

BrandName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text5000 = Annotated[str, msgspec.Meta(max_length=5000)]
Phone = Annotated[str, msgspec.Meta(max_length=40)]
Short200 = Annotated[str, msgspec.Meta(max_length=200)]
Short300 = Annotated[str, msgspec.Meta(max_length=300)]
UNSET: Any = msgspec.UNSET
Unset = msgspec.UnsetType
ARRAYS = ("styles",)
LOGO_RULES: dict[str, FileRule] = {"image": FileRule(kind="image", preset="brand_logo")}


class BrandIn(msgspec.Struct, forbid_unknown_fields=False):
    name: BrandName
    username: Username
    password: Password
    description: Text5000 | None = None
    site_link: Url | None = None
    phone: Phone | None = None
    email: Email | None = None
    instagram: Short200 | None = None
    address: Short300 | None = None
    country_id: UUID | None = None
    styles: list[int] = []
    admin_email: Email | None = None


class BrandEdit(msgspec.Struct, forbid_unknown_fields=False):
    name: BrandName | Unset = UNSET
    description: Text5000 | None | Unset = UNSET
    site_link: Url | None | Unset = UNSET
    phone: Phone | None | Unset = UNSET
    email: Email | None | Unset = UNSET
    instagram: Short200 | None | Unset = UNSET
    address: Short300 | None | Unset = UNSET
    country_id: UUID | None | Unset = UNSET
    styles: list[int] | Unset = UNSET
