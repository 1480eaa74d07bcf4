"""Selection policies: pick one upstream out of a list of candidates.

Each policy is one class behind the small ``Policy`` protocol; the pool hands it the already
filtered candidates (healthy, not ejected, not excluded for a retry) plus each candidate's
effective weight (configured weight x slow-start factor), so a policy never has to know about
health, slow start or priorities. Adding a policy means adding one class here and one name in
``POLICIES``.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from math import exp
from typing import Protocol

from .upstream import Upstream


class Policy(Protocol):
    def choose(self, cands: list[Upstream], weights: list[float], key: bytes | None, now: float) -> Upstream: ...


class P2CEwma:
    """Power of two choices on outstanding requests x latency EWMA (Finagle's "P2C + peak EWMA").

    Two random picks avoid the herd effect of always choosing the global minimum, and the
    latency term moves load off a host that is slow before it starts failing. A host's latency
    counts for less the longer it goes unmeasured (it decays towards 0 with time constant
    ``decay``, as Finagle's peak EWMA does): a host that lost every comparison gets no new sample,
    and without the decay one slow answer (a cold start, a GC pause) would keep it idle for ever."""

    __slots__ = ("_rand", "decay", "fresh")

    def __init__(self, decay: float = 10.0) -> None:
        self._rand = random.random
        self.decay = decay
        self.fresh = decay / 1000  # younger samples decay by < 0.1%: exp() is skipped

    def choose(self, cands: list[Upstream], weights: list[float], key: bytes | None, now: float) -> Upstream:
        n = len(cands)
        if n == 1:
            return cands[0]
        r = self._rand
        # One draw for both picks: for a uniform x, x * n's integer part and fraction are
        # independent and uniform, and a second random() call costs as much as the rest.
        x = r() * n
        i = int(x)
        j = int((x - i) * (n - 1))
        if j >= i:
            j += 1
        a = cands[i]
        b = cands[j]
        # An unsampled host scores 0, so it is tried once and then competes on its measured latency.
        la = a.ewma
        dt = now - a.ewma_stamp
        if dt > self.fresh:
            la *= exp(-dt / self.decay)
        lb = b.ewma
        dt = now - b.ewma_stamp
        if dt > self.fresh:
            lb *= exp(-dt / self.decay)
        sa = (a.inflight + 1) * la / weights[i]
        sb = (b.inflight + 1) * lb / weights[j]
        if sa == sb:
            return a if r() < 0.5 else b
        return a if sa < sb else b


class WeightedRoundRobin:
    """Smooth weighted round robin (nginx): interleaves hosts instead of sending bursts."""

    __slots__ = ("_current",)

    def __init__(self) -> None:
        self._current: dict[str, float] = {}

    def choose(self, cands: list[Upstream], weights: list[float], key: bytes | None, now: float) -> Upstream:
        cur = self._current
        total = 0.0
        best: Upstream | None = None
        best_val = 0.0
        for up, w in zip(cands, weights, strict=True):
            v = cur.get(up.url, 0.0) + w
            cur[up.url] = v
            total += w
            if best is None or v > best_val:
                best, best_val = up, v
        assert best is not None
        cur[best.url] = best_val - total
        if len(cur) > 4 * len(cands) + 16:  # forget hosts that left the pool
            live = {u.url for u in cands}
            for k in [k for k in cur if k not in live]:
                del cur[k]
        return best


def _h64(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


class ConsistentHash:
    """Ketama-style ring over all configured hosts: a key keeps its host while that host is a
    candidate, and only ~1/N of keys move when a host joins or leaves. Requests without a key fall
    back to P2C so they still spread."""

    __slots__ = ("_ring", "_owners", "_members", "_fallback", "vnodes")

    def __init__(self, vnodes: int = 160, decay: float = 10.0) -> None:
        self.vnodes = vnodes
        self._ring: list[int] = []
        self._owners: list[str] = []
        self._members: dict[str, float] = {}  # url -> weight, of every host on the ring
        self._fallback = P2CEwma(decay)

    def _rebuild(self, members: dict[str, float]) -> None:
        points: list[tuple[int, str]] = []
        for url, weight in sorted(members.items()):
            for i in range(max(1, int(self.vnodes * weight))):
                points.append((_h64(f"{url}#{i}".encode()), url))
        points.sort()
        self._ring = [p for p, _ in points]
        self._owners = [u for _, u in points]
        self._members = members

    def choose(self, cands: list[Upstream], weights: list[float], key: bytes | None, now: float) -> Upstream:
        if not key:
            return self._fallback.choose(cands, weights, None, now)
        # The ring is built from configured weights (not slow-start weights), and a host stays on it
        # while it is not a candidate (ejected, already tried), so keys do not move to others
        # meanwhile; a host's entry is replaced when its configured weight changes.
        known = self._members
        if any(known.get(u.url) != u.weight for u in cands):
            self._rebuild({**known, **{u.url: u.weight for u in cands}})
        by_url = {u.url: u for u in cands}
        ring = self._ring
        idx = bisect.bisect(ring, _h64(key))
        n = len(ring)
        for step in range(n):
            owner = self._owners[(idx + step) % n]
            up = by_url.get(owner)
            if up is not None:
                return up
        return cands[0]


def make_policy(name: str, ewma_decay: float = 10.0) -> Policy:
    if name == "round_robin":
        return WeightedRoundRobin()
    if name == "hash":
        return ConsistentHash(decay=ewma_decay)
    return P2CEwma(ewma_decay)
