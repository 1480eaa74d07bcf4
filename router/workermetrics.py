"""``/__router/metrics`` for all ``--workers`` at once, whichever worker the scrape lands on.

With SO_REUSEPORT a scrape reaches one worker at random; if each answered for itself, Prometheus
would see counters jump between unrelated processes and `rate()` would be nonsense. So every worker
publishes its rendered metrics to a file in a directory the master made (once a second, atomically),
and the worker that answers a scrape merges its own live figures with the others' files, each
sample labelled ``worker="<slot>"``: counters stay monotonic per series and
``sum without (worker) (...)`` gives the router's total. A file not refreshed for ``STALE_AFTER``
seconds belongs to a dead worker and is left out; its respawned successor starts new series from
zero, which Prometheus treats as a counter reset. Plain files rather than shared memory: no locking
on the hot path, and a crashed worker cannot corrupt anyone else's figures.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

PUBLISH_EVERY = 1.0
STALE_AFTER = 5.0


class WorkerMetrics:
    def __init__(self, directory: str, slot: int) -> None:
        self.dir = Path(directory)
        self.slot = slot
        self.path = self.dir / f"{slot}.prom"
        self.published = 0.0

    def publish(self, text: bytes, now: float) -> None:
        """Called by the sweeper; writes at most once per ``PUBLISH_EVERY`` seconds."""
        if now - self.published < PUBLISH_EVERY:
            return
        self.published = now
        scratch = self.dir / f".{self.slot}.{os.getpid()}.tmp"
        with contextlib.suppress(OSError):
            scratch.write_bytes(text)
            os.replace(scratch, self.path)

    def collect(self, own: bytes) -> bytes:
        """Own live metrics plus every other live worker's published ones, labelled by worker."""
        texts = [(str(self.slot), own)]
        fresh_since = time.time() - STALE_AFTER
        for path in sorted(self.dir.glob("*.prom")):
            if path == self.path:
                continue
            with contextlib.suppress(OSError):
                if path.stat().st_mtime >= fresh_since:
                    texts.append((path.stem, path.read_bytes()))
        return merge(texts)

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()


def merge(texts: list[tuple[str, bytes]]) -> bytes:
    """Merge Prometheus text outputs of the same program: one HELP/TYPE per family, every sample
    of every worker under it with a ``worker`` label added."""
    families: dict[str, tuple[list[str], list[str]]] = {}
    for worker, text in texts:
        family = None
        for line in text.decode().splitlines():
            if line.startswith("# "):
                name = line.split(" ", 3)[2]
                family = families.setdefault(name, ([], []))
                if line not in family[0]:
                    family[0].append(line)
            elif line and family is not None:
                family[1].append(_labelled(line, worker))
    out = [line for header, samples in families.values() for line in (*header, *samples)]
    return ("\n".join(out) + "\n").encode()


def _labelled(sample: str, worker: str) -> str:
    name, sep, rest = sample.partition("{")
    if sep:
        return f'{name}{{worker="{worker}",{rest}'
    name, _, value = sample.partition(" ")
    return f'{name}{{worker="{worker}"}} {value}'
