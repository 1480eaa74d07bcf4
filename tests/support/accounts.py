"""Signed-up test users and the role ids the migrations seed."""

from __future__ import annotations


class Account(dict):
    """A signed-up user: `id`, `email`, `password`, `token`, `refresh`, `role`; `.auth` headers."""

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self['token']}"}


ROLE_IDS = {"admin": 1, "brand": 2, "designer": 3}
