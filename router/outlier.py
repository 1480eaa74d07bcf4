"""Passive outlier detection: eject a host after consecutive failures seen on real traffic.

Active probes notice a dead host after ``fall x interval``; real traffic notices in a few requests.
Ejection lasts ``base_ejection x n`` (n = how many times in a row the host was ejected, capped at
``max_ejection``), so a flapping host stays out longer each time. At most ``max_ejection_percent``
of a priority level is ejected at once (one host always may be), so a bug that makes every host
return 500 does not empty the pool.
"""

from __future__ import annotations

from collections.abc import Callable

from .config import OutlierCfg
from .upstream import Upstream


class OutlierDetector:
    def __init__(self, cfg: OutlierCfg, peers: Callable[[Upstream], list[Upstream]],
                 on_eject: Callable[[Upstream], None]) -> None:
        self.cfg = cfg
        self.peers = peers
        self.on_eject = on_eject
        self.total_ejections = 0

    def success(self, up: Upstream) -> None:
        up.consecutive_failures = 0

    def failure(self, up: Upstream, now: float) -> bool:
        """Count a failure; returns True when it ejected the host."""
        up.consecutive_failures += 1
        cfg = self.cfg
        if up.consecutive_failures < cfg.consecutive_failures or up.ejected_until > now:
            return False
        peers = self.peers(up)
        ejected = sum(1 for p in peers if p.ejected_until > now)
        if ejected and (ejected + 1) * 100 > cfg.max_ejection_percent * len(peers):
            return False
        # Forget old history: a host that behaved for a long while starts again from the base time.
        if up.last_ejection and now - up.last_ejection > 4 * max(cfg.max_ejection, cfg.base_ejection):
            up.ejection_streak = 0
        up.ejection_streak += 1
        up.ejections += 1
        duration = min(cfg.max_ejection, cfg.base_ejection * up.ejection_streak)
        up.ejected_until = now + duration
        up.last_ejection = now
        up.consecutive_failures = 0
        up.slow_start_at = up.ejected_until  # ramp up again once the ejection ends
        self.total_ejections += 1
        self.on_eject(up)
        return True
