"""Hot-path properties checked in process: no per-request garbage cycles, no per-try timer."""

from __future__ import annotations

import asyncio
import gc

import pytest

from router.app import Router, make_socket
from router.config import load_config
from tests.support.ports import free_port

pytestmark = pytest.mark.timeout(30)


async def _serve(upstream: str, extra: str, tmp) -> tuple[Router, int]:
    cfg_path = tmp / "hot.toml"
    cfg_path.write_text("[log]\naccess = false\n" + extra)
    port = free_port()
    cfg = load_config(str(cfg_path), listen=f"127.0.0.1:{port}", upstreams=[upstream])
    router = Router(cfg)
    await router.serve(make_socket("127.0.0.1", port, False))
    return router, port


async def test_requests_leave_no_garbage_cycles_and_arm_no_timer(start_backend, tmp) -> None:
    b = start_backend("a")
    router, port = await _serve(b.url, "", tmp)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    armed = []
    real_call_later = router.loop.call_later

    def spy(delay, cb, *args):  # type: ignore[no-untyped-def]
        armed.append(cb)
        return real_call_later(delay, cb, *args)

    async def one() -> None:
        writer.write(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        await reader.readuntil(b"hello from a")

    try:
        for _ in range(20):
            await one()
        router.loop.call_later = spy  # type: ignore[method-assign]
        gc.collect()
        gc.disable()
        try:
            for _ in range(300):
                await one()
            # An exchange and its try must be freed by reference counting, not left for the cyclic GC.
            # Only router objects count: the test process runs other suites' pools and clients too.
            gc.set_debug(gc.DEBUG_SAVEALL)
            gc.collect()
            leaked = [type(o).__qualname__ for o in gc.garbage if type(o).__module__.startswith("router")]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()
        assert leaked == []
        assert not [cb for cb in armed if getattr(cb, "__name__", "") == "on_timeout"]
    finally:
        router.loop.call_later = real_call_later  # type: ignore[method-assign]
        writer.close()
        router.server.close()  # type: ignore[union-attr]
        router.health.stop()
        for up in router.balancer.upstreams.values():
            up.conns.close_all()


async def test_per_try_timeout_without_hedging_still_fails_the_try(start_backend, tmp) -> None:
    b = start_backend("a")
    router, port = await _serve(b.url, "[retry]\nattempts = 1\nper_try_timeout = 0.3\n", tmp)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /slow?ms=3000 HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n"), 2.0)
        assert head.startswith(b"HTTP/1.1 504")
        writer.close()
    finally:
        router.server.close()  # type: ignore[union-attr]
        router.health.stop()
        for up in router.balancer.upstreams.values():
            up.conns.close_all()
