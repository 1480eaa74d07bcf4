"""The one place that picks the auth provider implementation from settings.

Two variants stand behind the protocol (`shared.auth.protocol`): the built-in provider (users in
our PostgreSQL; the embedded default) and Supabase Auth (GoTrue). Routes only see the protocol, so
the HTTP contract is the same whichever signs users in.
"""

from __future__ import annotations

from functools import lru_cache

from shared.auth.builtin import BuiltinAuthProvider
from shared.auth.protocol import AuthProvider
from shared.auth.supabase import SupabaseAuthProvider
from shared.config import get_settings


@lru_cache(maxsize=1)
def get_provider() -> AuthProvider:
    settings = get_settings()
    if settings.uses_supabase:
        return SupabaseAuthProvider(settings)
    return BuiltinAuthProvider(settings)
