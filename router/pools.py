"""Pools and priorities: which hosts are candidates for a request before a policy picks one.

Priority levels follow Envoy's model: each level's "health" is its available weight share times
the overprovisioning factor (1.4), capped at 100%. Level 0 takes as much traffic as its health
allows and the remainder spills to level 1, and so on, so a primary at 60% health sends ~16% of
requests to the backup and takes them back as it recovers. Inside a level, if fewer than
``panic_threshold`` percent of hosts are available, all hosts are used: sending traffic to
possibly-bad hosts beats sending it nowhere.
"""

from __future__ import annotations

import random
from time import monotonic

from .config import Config
from .policies import Policy, make_policy
from .upstream import Upstream


class Level:
    __slots__ = ("priority", "hosts", "policy")

    def __init__(self, priority: int, hosts: list[Upstream], policy: Policy) -> None:
        self.priority = priority
        self.hosts = hosts
        self.policy = policy


class Balancer:
    """Holds the upstream set; ``select`` is on the hot path."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.upstreams: dict[str, Upstream] = {}
        self.levels: list[Level] = []
        self._rand = random.random
        self._loads: list[float] = []
        self._loads_at = 0.0

    def configure(self, cfg: Config, existing: dict[str, Upstream]) -> tuple[list[Upstream], list[Upstream]]:
        """Install a new upstream set, reusing state of hosts that stay. Returns (added, removed)."""
        self.cfg = cfg
        new: dict[str, Upstream] = {}
        added: list[Upstream] = []
        for pool in cfg.pools:
            for uc in pool.upstreams:
                up = existing.get(uc.url)
                if up is None:
                    up = Upstream(uc.url, uc.host, uc.port, uc.weight, pool.name, pool.priority)
                    added.append(up)
                up.weight, up.pool_name, up.priority = uc.weight, pool.name, pool.priority
                up.removed = False
                up.draining = False  # runtime changes end at a reload: the file is the source of truth
                new[uc.url] = up
        removed = [u for url, u in existing.items() if url not in new]
        for u in removed:
            u.removed = True
        self.upstreams = new
        self.rebuild()
        return added, removed

    def rebuild(self) -> None:
        by_prio: dict[int, list[Upstream]] = {}
        for up in self.upstreams.values():
            by_prio.setdefault(up.priority, []).append(up)
        old = {lv.priority: lv.policy for lv in self.levels}
        self.levels = [
            Level(p, hosts, old.get(p) or make_policy(self.cfg.balancing.policy, self.cfg.balancing.ewma_decay))
            for p, hosts in sorted(by_prio.items())
        ]
        self._loads_at = 0.0

    def priority_loads(self, now: float) -> list[float]:
        """Share of traffic per level (sums to 1). Cached for 50 ms: health moves slower than that."""
        if now - self._loads_at < 0.05 and len(self._loads) == len(self.levels):
            return self._loads
        over = self.cfg.retry.overprovisioning
        healths = []
        for lv in self.levels:
            total = sum(u.weight for u in lv.hosts if not u.draining)
            ok = sum(u.weight for u in lv.hosts if u.available(now))
            healths.append(min(1.0, over * ok / total) if total else 0.0)
        s = sum(healths)
        if s <= 0:
            loads = [1.0] + [0.0] * (len(healths) - 1) if healths else []
        elif s < 1.0:
            loads = [h / s for h in healths]
        else:
            loads, remaining = [], 1.0
            for h in healths:
                take = min(remaining, h)
                loads.append(take)
                remaining -= take
        self._loads, self._loads_at = loads, now
        return loads

    def select(self, key: bytes | None, exclude: list[Upstream] | None, max_conc: int) -> Upstream | None:
        levels = self.levels
        if not levels:
            return None
        now = monotonic()
        if len(levels) == 1:
            level = levels[0]
        else:
            loads = self.priority_loads(now)
            r = self._rand()
            level = levels[-1]
            for lv, load in zip(levels, loads, strict=True):
                if r < load:
                    level = lv
                    break
                r -= load
        return self._pick(level, now, key, exclude, max_conc) or self._any_level(now, key, exclude, max_conc)

    def _any_level(self, now: float, key: bytes | None, exclude: list[Upstream] | None,
                   max_conc: int) -> Upstream | None:
        """The drawn level had nothing usable (e.g. every host there was already tried): try the rest."""
        for lv in self.levels:
            up = self._pick(lv, now, key, exclude, max_conc)
            if up is not None:
                return up
        return None

    def _pick(self, level: Level, now: float, key: bytes | None, exclude: list[Upstream] | None,
              max_conc: int) -> Upstream | None:
        cands: list[Upstream] = []
        weights: list[float] = []
        usable = avail = 0
        for up in level.hosts:
            if up.draining or up.removed:
                continue
            usable += 1
            if not up.active_healthy or up.ejected_until > now:
                continue
            avail += 1
            if exclude and up in exclude:
                continue
            cands.append(up)
            if up.slow_start_at:
                ss = self.cfg.slow_start
                weights.append(up.weight * up.slow_start_factor(now, ss.window, ss.min_factor))
            else:
                weights.append(up.weight)
        if avail < usable and avail * 100 < self.cfg.outlier.panic_threshold * usable:
            # Panic: too few healthy hosts, spread over every non-draining host instead.
            cands = [u for u in level.hosts if not u.draining and not u.removed
                     and not (exclude and u in exclude)]
            weights = [u.weight for u in cands]
        if not cands:
            return None
        if len(cands) > 1:
            for u in cands:
                if u.inflight >= max_conc:  # some host is full: prefer those with room
                    free = [i for i, u in enumerate(cands) if u.inflight < max_conc]
                    if free:
                        cands = [cands[i] for i in free]
                        weights = [weights[i] for i in free]
                    break
        return level.policy.choose(cands, weights, key, now)

    def snapshot_levels(self, now: float) -> list[dict[str, object]]:
        loads = self.priority_loads(now)
        return [
            {"priority": lv.priority, "load": round(load, 4), "hosts": [u.url for u in lv.hosts]}
            for lv, load in zip(self.levels, loads, strict=True)
        ]
