"""What both router benchmarks start: the Debian tools, the cheap backends, HAProxy configured with
the router's features, the router's own configuration, and a byte relay that shows what one more hop
costs on this machine without any HTTP work (bench/router.py's "relay")."""

from __future__ import annotations

import contextlib
import ctypes
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


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


def _proxy_head(mode: str, busy_poll: bool) -> str:
    """The global and defaults sections both HAProxy proxies share."""
    return f"""global
    nbthread 1
    maxconn 4000{chr(10) + "    busy-polling" if busy_poll else ""}
defaults
    mode {mode}
    timeout connect 2s
    timeout client 30s
    timeout server 30s
"""


def _servers(backends: list[int]) -> str:
    return "\n".join(f"    server s{i} 127.0.0.1:{p}" for i, p in enumerate(backends))


def haproxy_cfg(port: int, backends: list[int], busy_poll: bool = False) -> str:
    return _proxy_head("http", busy_poll) + f"""\
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
{_servers(backends)}
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


def relay_cfg(port: int, backends: list[int], busy_poll: bool = False) -> str:
    """HAProxy in TCP mode: each client connection is spliced to one backend connection and bytes are
    copied both ways, with no parsing, no pooling and no headers added. What it adds to the latency is
    the hop itself on this machine (wake-ups of the proxy core, the extra socket writes), the floor
    under any HTTP proxy measured the same way."""
    return _proxy_head("tcp", busy_poll) + f"""\
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    balance roundrobin
{_servers(backends)}
"""
