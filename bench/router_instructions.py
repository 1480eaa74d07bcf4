"""User-space instructions per proxied request, compiled router against its .py files, under callgrind.

    .venv/bin/python bench/router_instructions.py [--requests 8000] [--connections 16] [--path /]
                                                  [--baseline DIR] [--haproxy] [--sim]

Why a second router benchmark: req/s and CPU time on this shared 2-core VM move by 10-20% between
runs, which hides a change worth a few percent. Valgrind's callgrind counts the instructions the
router executes instead; the count hardly moves with outside load (runs repeat within ~0.1%), so
a code change can be judged by one run. It sees user space only: the kernel's share (the socket
calls, about half of the router's CPU time) is the same for every build and not counted.

Each router serves `--connections` keep-alive clients (a small asyncio client in this process)
fetching `--path` from a cheap HAProxy backend; counters are zeroed after a warm-up of 1500
requests, and the next `--requests` are counted. Printed: instructions per request for the
compiled build ("router"), the .py files ("router-py", ROOT's sources with ROUTER_PURE_PYTHON=1),
`--baseline DIR`'s router package if given, `--haproxy`: HAProxy itself, configured as in
bench/router.py (so the count is for the same features), and each one's ratio to router-py.
Each count is also given without libc's mem* functions: callgrind counts a ``rep movsb`` copy byte
by byte, so HAProxy's buffer moves (~33,000 of its ~77,000 per small request) weigh far more here
than on a CPU, which copies such blocks in a few hundred cycles. `--sim` adds simulated cache
misses and mispredicted branches. Installs valgrind and haproxy with apt-get if they are missing.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import router_setup as rs  # bench/, first on sys.path when this file runs as a script

PY, ROOT = sys.executable, Path(__file__).resolve().parents[1]
free_port, wait_port = rs.free_port, rs.wait_port

WARMUP = 1500


async def clients(port: int, requests: int, conns: int, path: str) -> None:
    left = requests
    request = f"GET {path} HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n".encode()

    async def one() -> None:
        nonlocal left
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while left > 0:
            left -= 1
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"content-length: *(\d+)", head, re.I)
            if not head.startswith(b"HTTP/1.1 200") or length is None:
                raise SystemExit(f"unexpected response: {head[:200]!r}")
            await reader.readexactly(int(length.group(1)))
        writer.close()

    await asyncio.gather(*(one() for _ in range(conns)))


def router_cmd(port: int, cfg: Path, backends: list[int]) -> list[str]:
    return [PY, "-m", "router", "--listen", f"127.0.0.1:{port}", "--config", str(cfg),
            *[f"--upstream=http://127.0.0.1:{p}" for p in backends]]


def haproxy_cmd(port: int, tmp: Path, backends: list[int], busy_poll: bool) -> list[str]:
    cfg = tmp / "haproxy.cfg"
    cfg.write_text(rs.haproxy_cfg(port, backends, busy_poll))
    return ["haproxy", "-db", "-f", str(cfg)]


SIM_FLAGS = ["--cache-sim=yes", "--branch-sim=yes"]


def copy_instructions(dump: str) -> int:
    """Instructions counted in libc's mem* functions (memcpy, memmove, memset and their variants)."""
    out = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100", "--show=Ir", dump],
                         capture_output=True, text=True, check=True).stdout
    rows = re.finditer(r"^\s*([\d,]+) .*:__?mem(?:cpy|move|set)", out, re.M)
    return sum(int(m.group(1).replace(",", "")) for m in rows)


def count(name: str, cmd: Callable[[int], list[str]], cwd: Path, env: dict[str, str], tmp: Path,
          args: argparse.Namespace) -> dict[str, float]:
    """Per-request event counts (callgrind's names: Ir, and with --sim D1mr, Bcm, ...) of the proxy
    ``cmd(port)`` starts, listening on ``port``."""
    port = free_port()
    out = tmp / f"callgrind.{name}"
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}.%p", *(SIM_FLAGS if args.sim else []),
         *cmd(port)],
        cwd=cwd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, 120)
        asyncio.run(clients(port, WARMUP, args.connections, args.path))
        subprocess.run(["callgrind_control", "--zero", str(proc.pid)], capture_output=True, check=True)
        asyncio.run(clients(port, args.requests, args.connections, args.path))
        subprocess.run(["callgrind_control", "--dump=measured", str(proc.pid)], capture_output=True, check=True)
    finally:
        proc.terminate()
        proc.wait(60)
    for path in glob.glob(f"{out}.{proc.pid}*"):
        text = Path(path).read_text(errors="replace")
        events = re.search(r"^events: (.*)$", text, re.M)
        total = re.search(r"^(?:summary|totals): ([\d ]+)$", text, re.M)
        trigger = re.search(r"^desc: Trigger: (.*)$", text, re.M)
        if trigger and "measured" in trigger.group(1) and total and events:
            values = total.group(1).split()  # callgrind may leave trailing zeros out
            counts = {e: int(values[i]) / args.requests if i < len(values) else 0.0
                      for i, e in enumerate(events.group(1).split())}
            counts["copies"] = copy_instructions(path) / args.requests
            return counts
    raise SystemExit(f"{name}: no callgrind dump found")


def print_sim(counts: dict[str, dict[str, float]]) -> None:
    """What the simulated caches and branch predictor make of those instructions: where a proxy
    that runs fewer instructions can still take longer. Valgrind models a generic cache and a
    simple predictor, not this CPU's, so compare the proxies with each other, not with time. No
    cycle estimate: callgrind counts a ``rep movsb`` copy byte by byte, as instructions and as
    data accesses, which inflates HAProxy (its buffer moves are ~40% of its count) far beyond
    what the copy costs a CPU."""
    print("# per request, simulated: L1 misses (instruction / data), last-level misses, mispredicted "
          "branches (conditional / indirect)")
    for name, ev in counts.items():
        print(f"{name:10s} L1 miss {ev['I1mr']:6,.0f} / {ev['D1mr'] + ev['D1mw']:6,.0f}  "
              f"LL miss {ev['ILmr'] + ev['DLmr'] + ev['DLmw']:4,.0f}  "
              f"mispredicts {ev['Bcm']:6,.0f} / {ev['Bim']:6,.0f}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=8000, help="requests counted per router")
    ap.add_argument("--connections", type=int, default=16, help="concurrent keep-alive clients")
    ap.add_argument("--path", default="/", help="'/' (5 B) or '/10k' (10 KiB responses)")
    ap.add_argument("--busy-poll", action="store_true", help="run the routers with [busy_poll] on")
    ap.add_argument("--baseline", type=Path, help="directory holding another router package to compare")
    ap.add_argument("--haproxy", action="store_true", help="also count HAProxy with bench/router.py's config")
    ap.add_argument("--sim", action="store_true", help="also simulate caches and branch prediction (slower)")
    args = ap.parse_args()
    rs.ensure_tools((("haproxy", "haproxy"), ("valgrind", "callgrind_control")))
    # without a compiler, "router" is the .py files too (ratio 1.00x)
    subprocess.run([PY, "-m", "router.build", "--quiet", "--if-possible"], cwd=ROOT)
    tmp = Path(tempfile.mkdtemp(prefix="router-instr-"))
    (tmp / "10k").write_bytes(b"x" * 10240)
    backends = [free_port(), free_port()]
    (tmp / "backends.cfg").write_text(rs.backend_cfg(backends, tmp / "10k"))
    cfg = tmp / "router.toml"
    cfg.write_text(rs.ROUTER_CFG + (rs.BUSY_POLL_CFG if args.busy_poll else ""))
    haproxy = subprocess.Popen(["haproxy", "-db", "-f", str(tmp / "backends.cfg")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def router(port: int) -> list[str]:
        return router_cmd(port, cfg, backends)

    runs = [("router", router, ROOT, {}), ("router-py", router, ROOT, {"ROUTER_PURE_PYTHON": "1"})]
    if args.baseline:
        runs.append(("base", router, args.baseline.resolve(), {}))
    if args.haproxy:
        runs.append(("haproxy", lambda port: haproxy_cmd(port, tmp, backends, args.busy_poll), ROOT, {}))
    try:
        for p in backends:
            wait_port(p)
        print(f"# user-space instructions per request (callgrind): {args.requests} requests over "
              f"{args.connections} connections, GET {args.path}, after {WARMUP} warm-up requests")
        counts = {name: count(name, cmd, cwd, env, tmp, args) for name, cmd, cwd, env in runs}
        for name, ev in counts.items():
            per = ev["Ir"]
            vs_haproxy = f"  {per / counts['haproxy']['Ir']:.2f}x haproxy" if "haproxy" in counts else ""
            print(f"{name:10s} {per:9,.0f} instructions/request  {per / counts['router-py']['Ir']:.2f}x router-py"
                  + vs_haproxy + f"   without mem* copies {per - ev['copies']:,.0f}")
        if args.sim:
            print_sim(counts)
    finally:
        haproxy.terminate()
        haproxy.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
