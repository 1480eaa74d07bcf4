"""Benchmark: our router vs HAProxy, one core each, in front of two cheap backends.

    .venv/bin/python bench/router.py [--duration 2] [--rounds 5] [--nice -10] [--baseline DIR] [--pure]

Backends are one HAProxy process answering with `http-request return` (C, far cheaper than either
proxy), so the proxies are what is measured. Proxies run on core 0 (taskset); wrk and the backends on
core 1. Throughput: wrk -t1 -c64 for `--duration` seconds at small (5 B) and 10 KiB responses.
Latency: wrk with a Lua `delay()` per connection gives a paced, roughly fixed request rate (wrk2 is
not packaged); each proxy is driven at half of its own (median) maximum, and the same rate is sent
straight to the backend right before; "added" = proxy percentile - direct percentile. Idle: one
connection, closed loop.

The floor: "relay" is HAProxy in TCP mode (bench/router_setup.py), a byte relay with no HTTP work,
measured at the router's rate right after it (and "relay+bp" at router+bp's), against the same
direct run. What it adds is what one more hop through the proxy core costs on this machine: an
HTTP proxy can add no less, so it tells a target missed because of the router from one missed
because of the machine.

Noise: this is a shared 2-core machine, so everything runs in `--rounds` short rounds that alternate
the targets (the order flips every round), and the figures reported are medians of per-round
figures; ratios and added latencies are computed within a round, from runs seconds apart, so a
burst of outside load hits both sides of a comparison or only one round. The load average is
printed at the start and the end. `--nice` runs every benchmark process (backends, proxies, wrk)
at that scheduling priority, equal for all, so outside load preempts them less. Outside the VM,
the host takes a vCPU away for up to ~7 ms at a time when both are busy, a few to dozens of times
per second depending on its other tenants; each latency round ends with a 1 s probe of that
(bench/host_stalls.py), printed beside the round, since it bounds every proxy's p99.

Busy polling: HAProxy's `busy-polling` and our router's `[busy_poll]` keep the proxy core from
halting between events, which on this VM (an idle vCPU is woken through the hypervisor) is where
much of a proxy's added latency goes. Both proxies also run that way, as "haproxy+bp" and
"router+bp", compared with each other; each is kept stopped (SIGSTOP) while others are measured,
since HAProxy's busy-polling spins even without traffic. `--no-busy-poll` skips them.

Builds: the router runs compiled (`python -m router.build`, run first by this script) unless that
fails; `--pure` also runs the .py files (ROUTER_PURE_PYTHON=1) as "router-py", compared with HAProxy
like the others, to show what the compiled build buys.

Before/after: `--baseline DIR` also runs the `router` package found in DIR (e.g. an older commit:
`git archive REV router | tar -x -C DIR`) as a third proxy, "base", in the same alternating rounds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import host_stalls  # bench/, first on sys.path when this file runs as a script
from router_setup import (
    BUSY_POLL_CFG,
    ROUTER_CFG,
    backend_cfg,
    die_with_parent,
    ensure_tools,
    free_port,
    haproxy_cfg,
    relay_cfg,
    wait_port,
)

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
PROXY_CORE, LOAD_CORE = "0", "1"


def wrk(url: str, conns: int, duration: float, script: Path | None = None) -> dict[str, float]:
    cmd = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{conns}", f"-d{max(1, round(duration))}s", "--latency", url]
    if script is not None:
        cmd[5:5] = ["-s", str(script)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = {}
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if m:
            val = float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
            lat[pct] = val
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock_err = re.search(r"Socket errors: (.*)", out)
    total = re.search(r"(\d+) requests in", out)
    return {"rps": rps, "p50": lat.get("50", float("nan")), "p99": lat.get("99", float("nan")),
            "requests": float(total.group(1)) if total else 0.0,
            "non2xx": float(errors.group(1)) if errors else 0.0, "sockerr": 1.0 if sock_err else 0.0}


def paced(url: str, rate: float, duration: float, tmp: Path) -> dict[str, float]:
    """~rate req/s: each connection waits a random 0..10 ms (mean 5 ms) between requests, a closed loop
    with random think time; the randomness keeps connections out of phase, so arrivals are spread like
    independent clients instead of arriving in synchronized bursts."""
    delay_ms = 5
    conns = max(2, round(rate * (delay_ms + 0.5) / 1000))
    script = tmp / "pace.lua"
    script.write_text(f"function delay()\n  return math.random(0, {2 * delay_ms})\nend\n")
    return wrk(url, conns, duration, script)


def router_build(port: int) -> str:
    """Which build a router process loaded, from its status page ("compiled" or "python")."""
    url = f"http://127.0.0.1:{port}/__router/status?format=json"
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return str(json.load(resp).get("build", "python"))  # older routers had only the .py files
    except (OSError, ValueError):
        return "unknown"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process: CPU per request is what the proxy costs, and unlike
    req/s or latency it hardly moves when other work competes for the core."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: list[float], fmt: str = ".3f") -> str:
    return f"[{min(values):{fmt}} .. {max(values):{fmt}}]" if values else ""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=2.0, help="seconds per wrk run")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds; medians are reported")
    ap.add_argument("--nice", type=int, default=0, help="scheduling priority of all benchmark processes")
    ap.add_argument("--baseline", type=Path, help="directory holding another router package to compare")
    ap.add_argument("--pure", action="store_true", help="also run the router's .py files as router-py")
    ap.add_argument("--no-busy-poll", dest="busy_poll", action="store_false",
                    help="skip the busy-polling variants of both proxies")
    args = ap.parse_args()
    ensure_tools()
    # compiled unless impossible here; then the status line below says "python"
    subprocess.run([PY, "-m", "router.build", "--quiet", "--if-possible"], cwd=ROOT)
    if args.nice:
        os.nice(args.nice)  # inherited by every process started below, proxies and wrk alike
    tmp = Path(tempfile.mkdtemp(prefix="router-bench-"))
    tenk = tmp / "10k.txt"
    tenk.write_bytes(b"x" * 10240)
    procs: list[subprocess.Popen[bytes]] = []
    load_start = loadavg()
    try:
        be_ports = [free_port(), free_port()]
        (tmp / "backends.cfg").write_text(backend_cfg(be_ports, tenk))
        procs.append(subprocess.Popen(
            ["taskset", "-c", LOAD_CORE, "haproxy", "-db", "-f", str(tmp / "backends.cfg")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent))
        targets = {"direct": be_ports[0]}
        pids: dict[str, int] = {}  # taskset execs: the Popen pid is the proxy's
        err = (tmp / "router.err").open("wb")

        def start(name: str, cmd: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> None:
            procs.append(subprocess.Popen(["taskset", "-c", PROXY_CORE, *cmd], cwd=cwd,
                                          env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=err,
                                          preexec_fn=die_with_parent))
            pids[name] = procs[-1].pid

        def start_haproxy(name: str, busy_poll: bool, make_cfg: Callable[..., str] = haproxy_cfg) -> None:
            targets[name] = free_port()
            cfg = tmp / f"{name}.cfg"
            cfg.write_text(make_cfg(targets[name], be_ports, busy_poll))
            start(name, ["haproxy", "-db", "-f", str(cfg)])

        def start_router(name: str, cwd: Path, busy_poll: bool, env: dict[str, str] | None = None) -> None:
            targets[name] = free_port()
            cfg = tmp / f"{name}.toml"
            cfg.write_text(ROUTER_CFG + (BUSY_POLL_CFG if busy_poll else ""))
            start(name, [PY, "-m", "router", "--listen", f"127.0.0.1:{targets[name]}", "--config", str(cfg),
                         *[f"--upstream=http://127.0.0.1:{p}" for p in be_ports]], cwd, env)

        start_haproxy("haproxy", False)
        start_router("router", ROOT, False)
        start_haproxy("relay", False, relay_cfg)
        if args.baseline:
            start_router("base", args.baseline.resolve(), False)
        if args.pure:
            start_router("router-py", ROOT, False, {"ROUTER_PURE_PYTHON": "1"})
        if args.busy_poll:
            start_haproxy("haproxy+bp", True)
            start_router("router+bp", ROOT, True)
            start_haproxy("relay+bp", True, relay_cfg)
        for p in [*be_ports, *targets.values()]:
            try:
                wait_port(p)
            except SystemExit:
                print((tmp / "router.err").read_text()[-2000:], file=sys.stderr)
                raise
        time.sleep(0.5)
        proxies = [n for n in targets if n != "direct" and not n.startswith("relay")]
        compared = [n for n in proxies if not n.startswith("haproxy")]
        relay_of = {n: n.replace("router", "relay") for n in ("router", "router+bp") if n in proxies}
        spinners = [n for n in targets if n.endswith("+bp")]
        builds = {n: router_build(targets[n]) for n in compared}  # before the busy-pollers are stopped
        for name in spinners:
            os.kill(pids[name], signal.SIGSTOP)

        def peer(name: str) -> str:
            return "haproxy+bp" if name.endswith("+bp") else "haproxy"

        @contextlib.contextmanager
        def measuring(name: str) -> Iterator[None]:
            """A busy-polling proxy spins on the shared proxy core even without traffic (HAProxy's
            busy-polling always, ours until its next sweep), so it is kept stopped while the
            others are measured."""
            if name in spinners:
                os.kill(pids[name], signal.SIGCONT)
            try:
                yield
            finally:
                if name in spinners:
                    os.kill(pids[name], signal.SIGSTOP)
        d, rounds = args.duration, max(1, args.rounds)
        hv = subprocess.run(["haproxy", "-v"], capture_output=True, text=True).stdout.split()[2]
        print(f"# router bench: proxies pinned to core {PROXY_CORE}, wrk + backends on core {LOAD_CORE}; "
              f"{rounds} rounds x {d:g}s per run; nice {args.nice}; HAProxy {hv}")
        print(f"# load average at start: {load_start}  (1/5/15 min; {os.cpu_count()} cpus)")
        print("# router builds: " + ", ".join(f"{n} {b}" for n, b in builds.items()))
        sizes = (("small", "/"), ("10KB", "/10k"))

        def url(name: str, path: str) -> str:
            return f"http://127.0.0.1:{targets[name]}{path}"

        for _size, path in sizes:  # warm-up: connections, pools, EWMA
            for name in targets:
                with measuring(name):
                    wrk(url(name, path), 64, 1.0)
        print("# throughput: wrk -t1 -c64 (keep-alive); per round: req/s, router/haproxy in that round")
        rps: dict[tuple[str, str], list[float]] = {}
        cpu_us: dict[tuple[str, str], list[float]] = {}

        def run(name: str, path: str, size: str) -> float:
            before = cpu_seconds(pids[name]) if name in pids else 0.0
            with measuring(name):
                res = wrk(url(name, path), 64, d)
            if name in pids and res["requests"]:
                cpu_us.setdefault((name, size), []).append(
                    (cpu_seconds(pids[name]) - before) / res["requests"] * 1e6)
            return res["rps"]

        ratios: dict[str, list[float]] = {}
        for rnd in range(rounds):
            order = ["direct", *proxies] if rnd % 2 == 0 else [*reversed(proxies), "direct"]
            line = []
            for size, path in sizes:
                got = {name: run(name, path, size) for name in order}
                for name, v in got.items():
                    rps.setdefault((name, size), []).append(v)
                for name in compared:
                    ratios.setdefault(f"{name} {size}", []).append(got[name] / got[peer(name)])
                line.append(f"{size} " + " ".join(f"{n} {got[n]:.0f}" for n in ["direct", *proxies])
                            + f" ({got['router'] / got['haproxy']:.2f}x)")
            print(f"  round {rnd + 1}: " + "; ".join(line) + f"   load {loadavg()}")
        maxr = {k: med(v) for k, v in rps.items()}
        for size, _ in sizes:
            print(f"median {size:5s}: "
                  + ", ".join(f"{n} {maxr[(n, size)]:.0f}" for n in ["direct", *proxies]) + " req/s")
            print("  CPU per request: " + ", ".join(
                f"{n} {med(cpu_us[(n, size)]):.1f} us {spread(cpu_us[(n, size)], '.1f')}" for n in proxies))
            for name in compared:
                r = ratios[f"{name} {size}"]
                print(f"  ratio {name}/{peer(name)} {size:5s} = {med(r):.2f}x {spread(r, '.2f')}"
                      + ("  (target >= 0.40x)" if name == "router" else ""))

        print("# added latency at half of each proxy's median max rate: paced wrk (Lua delay() random 0-10 ms"
              " per request, connections = rate x 5.5 ms); added = proxy - direct at the same rate, same round")
        print(f"#   after each round, host stalls: the proxy core probed for 1 s with core {LOAD_CORE} kept busy"
              " (bench/host_stalls.py); a request arriving in a stall waits it out, whichever proxy it meets")
        added: dict[tuple[str, str, str], list[float]] = {}
        stalls: list[dict[str, float]] = []
        for rnd in range(rounds):
            names = proxies if rnd % 2 == 0 else proxies[::-1]
            line = []
            for size, path in sizes:
                for name in names:
                    rate = maxr[(name, size)] / 2
                    direct = paced(url("direct", path), rate, d, tmp)
                    # a router's relay at the router's rate, against the same direct run
                    for measured in (name, relay_of[name]) if name in relay_of else (name,):
                        with measuring(measured):
                            prox = paced(url(measured, path), rate, d, tmp)
                        for pct in ("p50", "p99"):
                            added.setdefault((measured, size, pct), []).append(prox[pct] - direct[pct])
                        line.append(f"{measured} {size} +{prox['p50'] - direct['p50']:.3f}"
                                    f"/+{prox['p99'] - direct['p99']:.3f}")
            stalls.append(host_stalls.measure(1.0, PROXY_CORE, LOAD_CORE))
            print(f"  round {rnd + 1} (added p50/p99 ms): " + "; ".join(line) + f"   load {loadavg()}"
                  f"\n    host stalls: {host_stalls.describe(stalls[-1])}")
        rate_of = {**{n: n for n in proxies}, **{r: n for n, r in relay_of.items()}}
        for size, _ in sizes:
            for name in [*proxies, *relay_of.values()]:
                p50, p99 = added[(name, size, "p50")], added[(name, size, "p99")]
                note = ("   (targets: p50 <= 0.25, p99 <= 1.0)" if name.startswith("router")
                        else f"   (TCP relay at {rate_of[name]}'s rate)" if name.startswith("relay") else "")
                print(f"median {name:8s} {size:5s} @ {maxr[(rate_of[name], size)] / 2:6.0f} req/s: added p50 "
                      f"{med(p50):+.3f} ms {spread(p50)}, added p99 {med(p99):+.3f} ms {spread(p99)}{note}")
        over_1ms = [s["over_1ms"] for s in stalls]
        print(f"host stalls >= 1 ms per second: median {med(over_1ms):g} {spread(over_1ms, 'g')}, "
              f"longest {max(s['max_ms'] for s in stalls):.2f} ms")

        print("# idle: one connection, closed loop (wrk -c1), small responses; added p50 = proxy - direct")
        idle: dict[str, list[float]] = {}
        for rnd in range(rounds):
            direct = wrk(url("direct", "/"), 1, d)["p50"]
            every = [*proxies, *relay_of.values()]
            for name in every if rnd % 2 == 0 else every[::-1]:
                with measuring(name):
                    idle.setdefault(name, []).append((wrk(url(name, "/"), 1, d)["p50"] - direct) * 1000)
        for name in idle:
            print(f"median {name:8s} idle added p50 {med(idle[name]):+.0f} us {spread(idle[name], '.0f')}")
        print(f"# load average at end: {loadavg()}")
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(signal.SIGTERM)
                p.send_signal(signal.SIGCONT)  # a stopped busy-poller handles SIGTERM once resumed
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
