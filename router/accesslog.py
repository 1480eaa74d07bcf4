"""JSON access log on stdout, sampled, buffered.

Lines are only formatted for sampled requests, and written in batches by the router's sweeper
(every 100 ms) so a busy worker makes one write syscall per batch, not one per request.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

from .config import LogCfg

FLUSH_BYTES = 64 * 1024


class AccessLog:
    def __init__(self, cfg: LogCfg, fd: int = 1) -> None:
        self.cfg = cfg
        self.fd = fd
        self.buf: list[str] = []
        self.size = 0
        self._rand = random.random

    @property
    def enabled(self) -> bool:
        return self.cfg.access and self.cfg.sample > 0

    def sampled(self) -> bool:
        s = self.cfg.sample
        return s >= 1.0 or self._rand() < s

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":"))
        self.buf.append(line)
        self.size += len(line) + 1
        if self.size >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self.buf:
            return
        data = ("\n".join(self.buf) + "\n").encode()
        self.buf = []
        self.size = 0
        try:
            while data:
                n = os.write(self.fd, data)
                data = data[n:]
        except BlockingIOError:
            pass  # stdout is a full non-blocking pipe: drop the batch rather than stall the loop
        except OSError:
            pass
