"""Access tokens: issued (built-in provider) and verified locally (both providers) with PyJWT.

The claim shape is Supabase's (`aud=authenticated`, sub, role, email, session_id, exp, iat), so
the rest of the code cannot tell which provider signed in the user. Supabase projects sign with
the HS256 JWT secret (legacy) or asymmetric keys (ES256/RS256) published as JWKS; those keys are
cached and looked up by `kid`, refetched once when an unknown `kid` appears (key rotation).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

from shared.config import Settings, get_settings
from shared.http.errors import ApiError

AUDIENCE = "authenticated"
BUILTIN_ISSUER = "tridmo-builtin"
ALGORITHMS_ASYMMETRIC = ("ES256", "RS256")


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int

    def as_contract(self) -> dict[str, Any]:
        """The token object the existing clients read (camelCase, as the contract says)."""
        return {
            "accessToken": self.access_token,
            "refreshToken": self.refresh_token,
            "expiresIn": self.expires_in,
            "tokenType": "Bearer",
        }


def expected_issuer(settings: Settings) -> str:
    """Who may have issued a token we accept: the project's GoTrue (`<SUPABASE_URL>/auth/v1`, as
    Supabase sets `iss`) or the built-in provider. A token signed with the right key but issued for
    another project (a JWT secret reused between projects) is refused."""
    return f"{settings.supabase_url.rstrip('/')}/auth/v1" if settings.supabase_url else BUILTIN_ISSUER


def issue_access_token(user_id: str, email: str, session_id: str, settings: Settings | None = None) -> str:
    import jwt  # heavy: PyJWT loads `cryptography` (~100 ms): only requests that handle tokens pay for it

    settings = settings or get_settings()
    now = int(time.time())
    claims = {
        "aud": AUDIENCE,
        "iss": BUILTIN_ISSUER,
        "sub": str(user_id),
        "email": email,
        "role": "authenticated",
        "session_id": str(session_id),
        "iat": now,
        "exp": now + settings.access_token_ttl_s,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


class JwksCache:
    """Signing keys from `{SUPABASE_URL}/auth/v1/.well-known/jwks.json`, cached per process.

    An unknown `kid` triggers a refetch (key rotation), at most once per `min_refresh_interval_s`
    so that tokens with made-up kids cannot make us hammer the endpoint. The set is also refetched
    once older than `max_age_s`, so a key revoked in the project stops being trusted. If a fetch
    fails, the cached keys keep serving, an unknown kid gets 503 (not a 401 for a token that may be
    valid), and the next attempt waits `min_refresh_interval_s`.
    """

    def __init__(self, url: str, min_refresh_interval_s: float = 5.0, max_age_s: float = 600.0) -> None:
        self.url = url
        self.keys: dict[str, Any] = {}
        self.min_refresh_interval_s = min_refresh_interval_s
        self.max_age_s = max_age_s
        self._fetched_at: float | None = None  # monotonic; None = never (monotonic may start near 0)
        self._retry_at = 0.0  # after a failed fetch, no new attempt before this (monotonic)
        self._failed = False
        self._lock = asyncio.Lock()

    def _age(self) -> float:
        return float("inf") if self._fetched_at is None else time.monotonic() - self._fetched_at

    async def key_for(self, kid: str | None) -> Any:
        if kid in self.keys and self._age() <= self.max_age_s:
            return self.keys[kid]
        async with self._lock:
            age = self._age()
            if age > self.max_age_s or (kid not in self.keys and age > self.min_refresh_interval_s):
                if time.monotonic() >= self._retry_at:
                    try:
                        await self._refresh()
                        self._failed = False
                    except Exception:
                        self._failed = True
                        self._retry_at = time.monotonic() + self.min_refresh_interval_s
                        if kid not in self.keys:
                            raise
                        # else keep serving the cached keys until a fetch succeeds
                elif self._failed and kid not in self.keys:
                    raise RuntimeError("JWKS unavailable")  # cannot tell: not a 401 for a maybe-valid token
        if kid not in self.keys:
            raise ApiError("unauthorized", "invalid_token")
        return self.keys[kid]

    async def _refresh(self) -> None:
        import httpx  # heavy: ~70 ms of import, needed only by Supabase projects with asymmetric keys
        import jwt  # heavy: PyJWT loads `cryptography` (~100 ms)

        async with httpx.AsyncClient(timeout=3.0) as client:
            response = await client.get(self.url)
            response.raise_for_status()
            jwks = jwt.PyJWKSet.from_dict(response.json())
        self.keys = {key.key_id: key.key for key in jwks.keys}
        self._fetched_at = time.monotonic()


_jwks: dict[str, JwksCache] = {}


def jwks_for(settings: Settings) -> JwksCache:
    url = f"{settings.supabase_url}/auth/v1/.well-known/jwks.json"
    if url not in _jwks:
        _jwks[url] = JwksCache(url)
    return _jwks[url]


async def verify_access_token(token: str, settings: Settings | None = None) -> dict[str, Any]:
    """Return the claims of a valid token; 401 `token_expired` or `unauthorized` otherwise."""
    import jwt  # heavy: PyJWT loads `cryptography` (~100 ms): only requests that carry a token pay for it

    settings = settings or get_settings()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise ApiError("unauthorized", "invalid_token") from None
    alg = header.get("alg")
    if alg == "HS256":
        if not settings.jwt_secret:
            raise ApiError("unauthorized", "invalid_token")
        key: Any = settings.jwt_secret
    elif alg in ALGORITHMS_ASYMMETRIC and settings.supabase_url:
        try:
            key = await jwks_for(settings).key_for(header.get("kid"))
        except ApiError:
            raise
        except Exception:
            raise ApiError("unavailable", "unavailable") from None
    else:
        raise ApiError("unauthorized", "invalid_token")
    try:
        claims = jwt.decode(
            token, key, algorithms=[alg], audience=AUDIENCE, issuer=expected_issuer(settings),
            options={"require": ["exp", "sub", "aud", "iss"]}, leeway=5,
        )
    except jwt.ExpiredSignatureError:
        raise ApiError("token_expired", "token_expired") from None
    except jwt.PyJWTError:
        raise ApiError("unauthorized", "invalid_token") from None
    return claims
