"""``python -m router``: command line, worker processes and signals.

With ``--workers 1`` (default) the process is the worker. With N > 1 a small master forks N
workers that each bind the port with SO_REUSEPORT (the kernel spreads connections), relays SIGHUP
(reload) and SIGUSR1 (admin op broadcast) to them, restarts a worker that dies, and on SIGTERM
waits for them to drain.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import shutil
import signal
import sys
import tempfile
import time
from typing import Any

from .config import Config, ConfigError, load_config


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m router", description="Tridmo edge router (HTTP/1.1 reverse proxy)")
    p.add_argument("--listen", help="host:port to listen on (default 127.0.0.1:4000)")
    p.add_argument("--upstream", action="append", default=[], metavar="URL",
                   help="upstream base URL, e.g. http://127.0.0.1:4101 (repeatable; forms pool 'default')")
    p.add_argument("--workers", type=int, help="worker processes sharing the port via SO_REUSEPORT")
    p.add_argument("--config", help="TOML config file (SIGHUP reloads it)")
    p.add_argument("--check", action="store_true", help="validate the configuration and exit")
    return p.parse_args(argv)


def _cli(args: argparse.Namespace) -> dict[str, Any]:
    return {"listen": args.listen, "upstreams": args.upstream or None, "workers": args.workers}


def _install_uvloop() -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a pinned dependency
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


async def _worker(cfg: Config, path: str | None, cli: dict[str, Any], ops_path: str | None,
                  reuse_port: bool, metrics: tuple[str, int] | None) -> None:
    from .app import Router, make_socket
    from .workermetrics import WorkerMetrics

    loop = asyncio.get_running_loop()
    router = Router(cfg, path, cli, ops_path)
    if metrics is not None:
        router.worker_metrics = WorkerMetrics(*metrics)
    await router.serve(make_socket(cfg.listen_host, cfg.listen_port, reuse_port))
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGHUP, router.reload)
    loop.add_signal_handler(signal.SIGUSR1, router.replay_ops)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    router.replay_ops()  # a respawned worker catches up with runtime changes
    router.log_event("listening", listen=f"{cfg.listen_host}:{cfg.listen_port}",
                     upstreams=list(router.balancer.upstreams))
    router.access.flush()
    # Start-up objects (config, modules, pools) never die: keep them out of every future GC pass.
    gc.freeze()
    await stop.wait()
    await router.shutdown()


def run_worker(cfg: Config, path: str | None, cli: dict[str, Any], ops_path: str | None, reuse_port: bool,
               metrics: tuple[str, int] | None = None) -> None:
    """``metrics``: (directory, slot) where a --workers child publishes its metrics for the others."""
    _install_uvloop()
    asyncio.run(_worker(cfg, path, cli, ops_path, reuse_port, metrics))


def run_master(cfg: Config, path: str | None, cli: dict[str, Any]) -> int:
    fd, ops_path = tempfile.mkstemp(prefix="router-ops-", suffix=".jsonl")
    os.close(fd)
    metrics_dir = tempfile.mkdtemp(prefix="router-metrics-")
    children: dict[int, int] = {}
    pending: list[int] = []
    stopping = False

    def spawn(slot: int) -> None:
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                for s in (signal.SIGHUP, signal.SIGUSR1, signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
                    signal.signal(s, signal.SIG_DFL)
                run_worker(cfg, path, cli, ops_path, reuse_port=True, metrics=(metrics_dir, slot))
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        children[pid] = slot

    def on_signal(signum: int, _frame: Any) -> None:
        pending.append(signum)

    for s in (signal.SIGHUP, signal.SIGUSR1, signal.SIGTERM, signal.SIGINT):
        signal.signal(s, on_signal)
    for slot in range(cfg.workers):
        spawn(slot)
    try:
        while children:
            while pending:
                signum = pending.pop(0)
                if signum in (signal.SIGTERM, signal.SIGINT):
                    stopping = True
                    signum = signal.SIGTERM
                elif signum == signal.SIGHUP:
                    # A worker respawned later starts from the reloaded file and replays only the
                    # runtime changes made since: a reload ends them (the file is the source of truth).
                    # With a bad file nothing changes here; the workers log why and keep theirs.
                    with contextlib.suppress(Exception):
                        cfg = load_config(path, **cli)
                        open(ops_path, "w").close()
                for pid in list(children):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signum)
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid:
                slot = children.pop(pid, None)
                if slot is not None and not stopping:
                    time.sleep(0.1)  # do not spin if a worker crashes at start
                    spawn(slot)
            else:
                time.sleep(0.05)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(ops_path)
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cli = _cli(args)
    try:
        cfg = load_config(args.config, **cli)
    except ConfigError as exc:
        print(f"router: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        print("configuration ok")
        return 0
    if cfg.workers > 1:
        return run_master(cfg, args.config, cli)
    run_worker(cfg, args.config, cli, None, reuse_port=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
