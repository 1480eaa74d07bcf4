"""Benchmark: our router vs HAProxy, one core each, in front of two cheap backends.

    .venv/bin/python bench/router.py [--duration 2] [--rounds 5] [--nice -10] [--baseline DIR] [--pure]

Backends are one HAProxy process answering with `http-request return` (C, far cheaper than either
proxy), so the proxies are what is measured. Proxies run on core 0 (taskset); wrk and the backends on
core 1. Throughput: wrk -t1 -c64 for `--duration` seconds at small (5 B) and 10 KiB responses.
Latency: wrk with a Lua `delay()` per connection gives a paced, roughly fixed request rate (wrk2 is
not packaged); each proxy is driven at half of its own (median) maximum, and the same rate is sent
straight to the backend right before; "added" = proxy percentile - direct percentile. Idle: one
connection, closed loop.

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
import ctypes
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# by path, not `import host_stalls`: bench/router_instructions.py loads this file by path too
_spec = importlib.util.spec_from_file_location("host_stalls", Path(__file__).with_name("host_stalls.py"))
host_stalls = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(host_stalls)  # type: ignore[union-attr]
PY = sys.executable
PROXY_CORE, LOAD_CORE = "0", "1"


def ensure_tools(tools: tuple[tuple[str, str], ...] = (("haproxy", "haproxy"), ("wrk", "wrk"))) -> None:
    """Install the Debian packages (package, binary it provides) whose binary is not on PATH."""
    missing = [pkg for pkg, binary in tools if not shutil.which(binary)]
    if not missing:
        return
    print(f"installing {' '.join(missing)} with apt-get ...", flush=True)
    if subprocess.run(["apt-get", "install", "-y", "-qq", *missing], capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True)


def die_with_parent() -> None:
    """``preexec_fn`` for every process the bench starts: the kernel kills it when the bench dies
    (PR_SET_PDEATHSIG), even by SIGKILL, when no ``finally`` runs. A busy-polling proxy left
    behind spins on the proxy core and skews every later run."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise SystemExit(f"port {port} did not open")


def backend_cfg(ports: list[int], tenk: Path) -> str:
    fronts = "".join(
        f"""
frontend be{i}
    bind 127.0.0.1:{p}
    http-request return status 200 content-type text/plain file {tenk} if {{ path /10k }}
    http-request return status 200 content-type text/plain string "hello"
""" for i, p in enumerate(ports))
    return f"""global
    nbthread 1
    maxconn 4000
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
{fronts}"""


def haproxy_cfg(port: int, backends: list[int], busy_poll: bool = False) -> str:
    servers = "\n".join(f"    server s{i} 127.0.0.1:{p}" for i, p in enumerate(backends))
    return f"""global
    nbthread 1
    maxconn 4000{chr(10) + "    busy-polling" if busy_poll else ""}
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
    timeout http-request 10s
    retries 2
    option redispatch 1
    retry-on conn-failure empty-response response-timeout 502 503 504
    http-reuse safe
    option forwardfor
frontend fe
    bind 127.0.0.1:{port}
    unique-id-format %{{+X}}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid
    unique-id-header X-Request-Id
    http-request set-header X-Forwarded-Proto http
    http-request set-header X-Forwarded-Host %[req.hdr(host)]
    stick-table type ip size 100k expire 30s store http_req_rate(10s)
    http-request track-sc0 src
    http-request deny deny_status 429 if {{ sc_http_req_rate(0) gt 1000000000 }}
    default_backend be
backend be
    balance random(2)
    option httpchk GET /health
    default-server check inter 2s fall 2 rise 2 observe layer7 error-limit 5 on-error mark-down slowstart 10s
{servers}
"""


ROUTER_CFG = """
[balancing]
policy = "p2c_ewma"
[health]
interval = 2.0
[retry]
attempts = 3
per_try_timeout = 5.0
[outlier]
consecutive_failures = 5
[limits]
rate = 1000000000.0
burst = 1000000000.0
[log]
sample = 0.01
"""
BUSY_POLL_CFG = """
[busy_poll]
enabled = true
"""


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

        def start_haproxy(name: str, busy_poll: bool) -> None:
            targets[name] = free_port()
            cfg = tmp / f"{name}.cfg"
            cfg.write_text(haproxy_cfg(targets[name], be_ports, busy_poll))
            start(name, ["haproxy", "-db", "-f", str(cfg)])

        def start_router(name: str, cwd: Path, busy_poll: bool, env: dict[str, str] | None = None) -> None:
            targets[name] = free_port()
            cfg = tmp / f"{name}.toml"
            cfg.write_text(ROUTER_CFG + (BUSY_POLL_CFG if busy_poll else ""))
            start(name, [PY, "-m", "router", "--listen", f"127.0.0.1:{targets[name]}", "--config", str(cfg),
                         *[f"--upstream=http://127.0.0.1:{p}" for p in be_ports]], cwd, env)

        start_haproxy("haproxy", False)
        start_router("router", ROOT, False)
        if args.baseline:
            start_router("base", args.baseline.resolve(), False)
        if args.pure:
            start_router("router-py", ROOT, False, {"ROUTER_PURE_PYTHON": "1"})
        if args.busy_poll:
            start_haproxy("haproxy+bp", True)
            start_router("router+bp", ROOT, True)
        for p in [*be_ports, *targets.values()]:
            try:
                wait_port(p)
            except SystemExit:
                print((tmp / "router.err").read_text()[-2000:], file=sys.stderr)
                raise
        time.sleep(0.5)
        proxies = [n for n in targets if n != "direct"]
        compared = [n for n in proxies if not n.startswith("haproxy")]
        spinners = [n for n in proxies if n.endswith("+bp")]
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
                line.append(f"{size} " + " ".join(f"{n} {got[n]:.0f}" for n in targets)
                            + f" ({got['router'] / got['haproxy']:.2f}x)")
            print(f"  round {rnd + 1}: " + "; ".join(line) + f"   load {loadavg()}")
        maxr = {k: med(v) for k, v in rps.items()}
        for size, _ in sizes:
            print(f"median {size:5s}: " + ", ".join(f"{n} {maxr[(n, size)]:.0f}" for n in targets) + " req/s")
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
                    with measuring(name):
                        prox = paced(url(name, path), rate, d, tmp)
                    for pct in ("p50", "p99"):
                        added.setdefault((name, size, pct), []).append(prox[pct] - direct[pct])
                    line.append(f"{name} {size} +{prox['p50'] - direct['p50']:.3f}/+{prox['p99'] - direct['p99']:.3f}")
            stalls.append(host_stalls.measure(1.0, PROXY_CORE, LOAD_CORE))
            print(f"  round {rnd + 1} (added p50/p99 ms): " + "; ".join(line) + f"   load {loadavg()}"
                  f"\n    host stalls: {host_stalls.describe(stalls[-1])}")
        for size, _ in sizes:
            for name in proxies:
                p50, p99 = added[(name, size, "p50")], added[(name, size, "p99")]
                print(f"median {name:8s} {size:5s} @ {maxr[(name, size)] / 2:6.0f} req/s: added p50 {med(p50):+.3f} ms "
                      f"{spread(p50)}, added p99 {med(p99):+.3f} ms {spread(p99)}"
                      + ("   (targets: p50 <= 0.25, p99 <= 1.0)" if name.startswith("router") else ""))
        over_1ms = [s["over_1ms"] for s in stalls]
        print(f"host stalls >= 1 ms per second: median {med(over_1ms):g} {spread(over_1ms, 'g')}, "
              f"longest {max(s['max_ms'] for s in stalls):.2f} ms")

        print("# idle: one connection, closed loop (wrk -c1), small responses; added p50 = proxy - direct")
        idle: dict[str, list[float]] = {}
        for rnd in range(rounds):
            direct = wrk(url("direct", "/"), 1, d)["p50"]
            for name in proxies if rnd % 2 == 0 else proxies[::-1]:
                with measuring(name):
                    idle.setdefault(name, []).append((wrk(url(name, "/"), 1, d)["p50"] - direct) * 1000)
        for name in proxies:
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
