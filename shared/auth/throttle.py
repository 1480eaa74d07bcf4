"""Wrong-password throttling per account, before the password is even checked.

Two counters per account in `signin_failures`, each over `SIGNIN_FAILURE_WINDOW_S`:
- per client address: after `SIGNIN_FAILURES_PER_CLIENT` wrong passwords that address is locked out
  of that account for one window, then two, four, ... (at most a day): one guesser gets a handful of
  tries an hour, and the owner signing in from anywhere else is not affected;
- per account (client `*`): after `SIGNIN_FAILURES_PER_ACCOUNT` wrong passwords from all addresses
  together, every address waits for the window to end: a guesser spread over many addresses is
  slowed to that ceiling.
A successful sign-in clears the account's counts and its own address's lock (other addresses stay
locked); an admin can clear every lock of an account (`clear`). Refusals are 429 with Retry-After.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from shared.config import get_settings
from shared.db import execute, fetch_all, fetch_one
from shared.http.errors import ApiError
from shared.observability.recording import count_rate_limited

ALL_CLIENTS = "*"
MAX_LOCK_S = 24 * 3600

_LOCKS = """
SELECT max(locked_until) AS locked_until FROM signin_failures
 WHERE account = %(account)s AND client IN (%(client)s, '*') AND locked_until > now()
"""
# One statement per counter: a failure outside the window starts a new one; reaching the threshold
# locks (per client: one window doubled per earlier lock, capped; per account: until the window ends).
_FAILED = """
INSERT INTO signin_failures AS f (account, client, failures, window_start)
VALUES (%(account)s, %(client)s, 1, now())
ON CONFLICT (account, client) DO UPDATE SET
    failures = CASE WHEN f.window_start < now() - make_interval(secs => %(window)s) THEN 1 ELSE f.failures + 1 END,
    window_start = CASE WHEN f.window_start < now() - make_interval(secs => %(window)s)
                        THEN now() ELSE f.window_start END
RETURNING failures, locks, window_start
"""
_LOCK_CLIENT = """
UPDATE signin_failures SET failures = 0, window_start = now(), locks = locks + 1,
       locked_until = now() + make_interval(secs => LEAST(%(max)s, %(window)s * 2 ^ locks))
 WHERE account = %(account)s AND client = %(client)s
"""
_LOCK_ACCOUNT = """
UPDATE signin_failures SET locked_until = window_start + make_interval(secs => %(window)s)
 WHERE account = %(account)s AND client = '*'
"""
_SUCCEEDED = """
WITH cleared AS (
    DELETE FROM signin_failures WHERE account = %(account)s AND client IN (%(client)s, '*')
)
UPDATE signin_failures SET failures = 0 WHERE account = %(account)s AND client NOT IN (%(client)s, '*')
"""
_CLEAR = "DELETE FROM signin_failures WHERE account = %(account)s"


async def check(account: str, client: str) -> None:
    """429 with Retry-After while this address, or every address, is locked out of the account."""
    row = await fetch_one(_LOCKS, {"account": account, "client": client})
    if row and row["locked_until"]:
        wait = (row["locked_until"] - datetime.now(UTC)).total_seconds()
        count_rate_limited("signin_failures")
        raise ApiError("rate_limited", "too_many_signins", headers={"Retry-After": str(max(1, math.ceil(wait)))})


async def failed(account: str, client: str) -> None:
    settings = get_settings()
    window = settings.signin_failure_window_s
    for who, threshold in ((client, settings.signin_failures_per_client),
                           (ALL_CLIENTS, settings.signin_failures_per_account)):
        row = await fetch_one(_FAILED, {"account": account, "client": who, "window": window})
        if row and row["failures"] >= threshold:
            lock = _LOCK_CLIENT if who != ALL_CLIENTS else _LOCK_ACCOUNT
            await execute(lock, {"account": account, "client": who, "window": window, "max": MAX_LOCK_S})


async def succeeded(account: str, client: str) -> None:
    await execute(_SUCCEEDED, {"account": account, "client": client})


async def clear(account: str) -> int:
    """Lift every lock and count of an account (the admin route); returns the rows removed."""
    return await execute(_CLEAR, {"account": account})


async def locks(account: str) -> list[dict]:
    """The account's counters, for the admin route's answer."""
    return await fetch_all(
        "SELECT client, failures, locks, locked_until FROM signin_failures WHERE account = %s ORDER BY client",
        (account,),
    )
