"""Image fields as the contract shapes them: the key for old clients, the absolute URL for new."""

from __future__ import annotations

from typing import Any

from shared.config import get_settings
from shared.storage import get_storage


def image_url(key: str | None) -> str | None:
    """`BASE_IMG_URL` + key in production; without it, whatever URL the storage backend serves."""
    if not key:
        return None
    settings = get_settings()
    if settings.base_img_url:
        return f"{settings.base_img_url}/{key}"
    return get_storage().public_url(key)


def image_object(key: str | None, **extra: Any) -> dict[str, Any] | None:
    if not key:
        return None
    return {"image_src": key, "url": image_url(key), **extra}
