"""Image fields as the contract shapes them: the key for old clients, the absolute URL for new."""

from __future__ import annotations

from typing import Any

from shared.config import get_settings

LOCAL_PUBLIC_PREFIX = "/api/files/public"


def image_url(key: str | None) -> str | None:
    if not key:
        return None
    settings = get_settings()
    if settings.base_img_url:
        return f"{settings.base_img_url}/{key}"
    return f"{settings.public_api_url}{LOCAL_PUBLIC_PREFIX}/{key}"


def image_object(key: str | None, **extra: Any) -> dict[str, Any] | None:
    if not key:
        return None
    return {"image_src": key, "url": image_url(key), **extra}
