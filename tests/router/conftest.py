"""Fixtures: real backend and router subprocesses on loopback, always killed in teardown."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port, wait_port

ROOT = Path(__file__).resolve().parents[2]
BACKEND = Path(__file__).with_name("backend.py")




class Backend:
    def __init__(self, port: int, name: str, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.port, self.name, self.proc, self.log = port, name, proc, log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=5)

    def stats(self) -> dict:
        return self.get("/stats").json()


class RouterProc:
    def __init__(self, port: int, proc: subprocess.Popen[bytes], out: Path, err: Path, config: Path | None) -> None:
        self.port, self.proc, self.out, self.err, self.config = port, proc, out, err, config

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def status(self) -> dict:
        return httpx.get(self.url + "/__router/status?format=json", timeout=5).json()

    def upstream(self, url: str) -> dict:
        for pool in self.status()["pools"]:
            for u in pool["upstreams"]:
                if u["url"] == url:
                    return u
        raise KeyError(url)

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def alive(self) -> bool:
        return self.proc.poll() is None


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGCONT)
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        proc.wait(timeout=5)


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for p in started:
        _kill(p)


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def start_backend(procs: list, tmp: Path) -> Callable[..., Backend]:
    def start(name: str = "b", *extra: str, port: int | None = None) -> Backend:
        port = port or free_port()
        log = tmp / f"backend-{name}-{port}.log"
        proc = subprocess.Popen([sys.executable, str(BACKEND), "--port", str(port), "--name", name, *extra],
                                stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(proc)
        wait_port(port)
        return Backend(port, name, proc, log)

    return start


BASE_CONFIG = """
[health]
interval = 0.2
timeout = 0.3
rise = 1
fall = 1
[log]
sample = 1.0
"""


@pytest.fixture
def start_router(procs: list, tmp: Path) -> Callable[..., RouterProc]:
    def start(upstreams: list[str], config: str | None = BASE_CONFIG, *extra: str,
              env: dict[str, str] | None = None, workers: int = 1) -> RouterProc:
        port = free_port()
        cfg_path = None
        args = [sys.executable, "-m", "router", "--listen", f"127.0.0.1:{port}"]
        for u in upstreams:
            args += ["--upstream", u]
        if config is not None:
            cfg_path = Path(tempfile.mkstemp(dir=tmp, suffix=".toml")[1])
            cfg_path.write_text(config)
            args += ["--config", str(cfg_path)]
        if workers > 1:
            args += ["--workers", str(workers)]
        out, err = tmp / f"router-{port}.out", tmp / f"router-{port}.err"
        full_env = {**os.environ, **(env or {})}
        full_env.pop("ROUTER_ADMIN_TOKEN", None) if not env or "ROUTER_ADMIN_TOKEN" not in env else None
        proc = subprocess.Popen([*args, *extra], cwd=ROOT, stdout=out.open("wb"), stderr=err.open("wb"),
                                env=full_env, start_new_session=True)
        procs.append(proc)
        wait_port(port)
        return RouterProc(port, proc, out, err, cfg_path)

    return start
