"""Active health checks: one probe loop per upstream, rise/fall thresholds, jittered interval.

Each worker process probes on its own (see docs/router.md): probes are cheap (one small GET per
interval), and it keeps every worker's view independent of the others, with no shared memory to
corrupt when one worker dies. Probes use a raw asyncio stream rather than httpx so a worker does not
pay httpx's import and per-request cost for something that runs all the time.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable

from .config import HealthCfg
from .upstream import Upstream


async def probe(host: str, port: int, path: str, limit: float) -> tuple[bool, str]:
    """One GET; healthy means a 2xx/3xx status line within ``limit`` seconds."""
    writer = None
    try:
        async with asyncio.timeout(limit):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: tridmo-router-health\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            line = await reader.readline()
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
            status = int(parts[1])
            return (200 <= status < 400), ("" if status < 400 else f"status {status}")
        return False, "malformed response"
    except TimeoutError:
        return False, "timeout"
    except (OSError, ValueError) as exc:  # ValueError: a status line longer than the reader's limit
        return False, exc.__class__.__name__
    finally:
        if writer is not None:
            writer.close()


class HealthChecker:
    """Owns the probe tasks; ``on_change`` is called when a host flips so caches can be refreshed."""

    def __init__(self, cfg: HealthCfg, on_change: Callable[[Upstream, bool], None]) -> None:
        self.cfg = cfg
        self.on_change = on_change
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def sync(self, upstreams: dict[str, Upstream]) -> None:
        """Start probes for new hosts, stop probes for removed ones."""
        for url in list(self.tasks):
            if url not in upstreams:
                self.tasks.pop(url).cancel()
        for url, up in upstreams.items():
            if url not in self.tasks:
                self.tasks[url] = asyncio.get_running_loop().create_task(self._loop(up))

    def restart(self, cfg: HealthCfg, upstreams: dict[str, Upstream]) -> None:
        self.cfg = cfg
        self.stop()
        self.sync(upstreams)

    def stop(self) -> None:
        for t in self.tasks.values():
            t.cancel()
        self.tasks.clear()

    async def _loop(self, up: Upstream) -> None:
        # Random initial offset: N workers x M hosts should not probe in lockstep.
        await asyncio.sleep(random.uniform(0, self.cfg.interval * max(self.cfg.jitter, 0.05)))
        while not up.removed:
            cfg = self.cfg
            ok, err = await probe(up.host, up.port, cfg.path, cfg.timeout)
            with contextlib.suppress(Exception):
                self.record(up, ok, err)
            jitter = cfg.interval * cfg.jitter
            await asyncio.sleep(max(0.01, cfg.interval + random.uniform(-jitter, jitter)))

    def record(self, up: Upstream, ok: bool, err: str = "") -> None:
        cfg = self.cfg
        up.last_probe = time.monotonic()
        up.last_probe_error = err
        if ok:
            up.health_oks += 1
            up.health_fails = 0
            if not up.active_healthy and up.health_oks >= cfg.rise:
                up.active_healthy = True
                self.on_change(up, True)
        else:
            up.health_fails += 1
            up.health_oks = 0
            if up.active_healthy and up.health_fails >= cfg.fall:
                up.active_healthy = False
                self.on_change(up, False)
