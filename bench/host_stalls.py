"""Host stalls: how often, and for how long, the hypervisor takes a vCPU away from this VM.

    .venv/bin/python bench/host_stalls.py [--seconds 5] [--core 0] [--busy-core 1]

A loop that does nothing but read the clock sees every gap in its own execution. On an idle guest
the gaps are interrupts, under 0.1 ms. On a shared host, a vCPU is also descheduled by the host,
for milliseconds at a time, and mostly when the VM's other vCPU is busy too, which is exactly the
state of a proxy benchmark (proxy on one core, load generator and backends on the other). The
guest's own steal counter (`/proc/stat`) stays at zero on this VM, so a probe is the only way to
see it. bench/router.py runs this once per latency round: a request that arrives during a 5 ms
stall waits 5 ms whatever the proxy does, so the stalls bound what its p99 can show.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

THRESHOLDS_MS = (0.5, 1.0, 5.0)
SPIN = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"


def probe(seconds: float) -> dict[str, Any]:
    """Gaps of 50 µs or more in a clock-reading loop on the calling process's core."""
    clock = time.perf_counter_ns
    end = clock() + int(seconds * 1e9)
    gaps: list[int] = []
    last = clock()
    while last < end:
        now = clock()
        if now - last > 50_000:
            gaps.append(now - last)
        last = now
    gaps_ms = [g / 1e6 for g in gaps]
    return {
        "seconds": seconds,
        "max_ms": round(max(gaps_ms, default=0.0), 2),
        "total_ms": round(sum(g for g in gaps_ms if g >= THRESHOLDS_MS[0]), 1),
        **{f"over_{t:g}ms": sum(g >= t for g in gaps_ms) for t in THRESHOLDS_MS},
    }


def measure(seconds: float, core: str = "0", busy_core: str | None = "1") -> dict[str, Any]:
    """Probe ``core`` for ``seconds`` while a spinner keeps ``busy_core`` busy (None: leave it idle)."""
    spinner = None
    if busy_core is not None:
        spin = SPIN.format(seconds=seconds + 0.5)
        spinner = subprocess.Popen(["taskset", "-c", busy_core, sys.executable, "-c", spin])
    try:
        out = subprocess.run(["taskset", "-c", core, sys.executable, __file__, "--probe", str(seconds)],
                             capture_output=True, text=True, check=True).stdout
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()
    return json.loads(out)


def describe(res: dict[str, Any]) -> str:
    counts = ", ".join(f"{res[f'over_{t:g}ms']} >= {t:g} ms" for t in THRESHOLDS_MS)
    return f"{counts}; {res['total_ms']} ms in all, longest {res['max_ms']} ms in {res['seconds']:g} s"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--core", default="0", help="core probed")
    ap.add_argument("--busy-core", default="1", help="core kept busy meanwhile ('none': idle)")
    ap.add_argument("--probe", type=float, help=argparse.SUPPRESS)  # the pinned child process
    args = ap.parse_args()
    if args.probe is not None:
        print(json.dumps(probe(args.probe)))
        return 0
    busy = None if args.busy_core == "none" else args.busy_core
    print(f"core {args.core}, core {args.busy_core} idle:", describe(measure(args.seconds, args.core, None)))
    if busy is not None:
        print(f"core {args.core}, core {busy} busy:", describe(measure(args.seconds, args.core, busy)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
