"""Hostile and malformed clients get the right answer and the router stays up."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import time

import httpx
import pytest

pytestmark = pytest.mark.timeout(40)

LIMITS = """
[health]
interval = 0.2
[timeouts]
header_read = 0.5
[limits]
max_header_bytes = 4096
max_body_bytes = 1048576
"""


def raw(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    return talk(port, data, timeout)[0]


def talk(port: int, data: bytes, wait: float = 2.0) -> tuple[bytes, bool]:
    """Send ``data``; return what came back and whether the router closed the connection (else
    it stayed open for ``wait`` seconds of silence)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                return out, False
            except ConnectionResetError:
                return out, True
            if not chunk:
                return out, True
            out += chunk


def envelope(resp: bytes) -> tuple[int, dict]:
    head, _, body = resp.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    assert b"content-type: application/json" in head.lower()
    assert b"x-request-id:" in head.lower()
    return status, json.loads(body)


def test_bad_clients(start_backend, start_router) -> None:
    b = start_backend("a")
    r = start_router([b.url], LIMITS)
    # malformed request line
    status, body = envelope(raw(r.port, b"GARBAGE\r\n\r\n"))
    assert status == 400 and body["reason"] == "validation" and body["success"] is False
    # oversized headers
    big = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n"
    status, body = envelope(raw(r.port, big))
    assert status == 431 and body["reason"] == "headers_too_large"
    # invalid chunked body
    bad_chunk = b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"
    status, body = envelope(raw(r.port, bad_chunk))
    assert status == 400 and body["reason"] == "validation"
    # body over the limit (declared)
    status, body = envelope(raw(r.port, b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n"))
    assert status == 413 and body["reason"] == "payload_too_large"
    # body over the limit (chunked, discovered while streaming)
    chunk = b"%x\r\n%s\r\n" % (300_000, b"q" * 300_000)
    resp = raw(r.port, b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 4)
    assert b"413" in resp.split(b"\r\n", 1)[0] or resp == b"" or b" 413 " in resp
    # both Content-Length and Transfer-Encoding (request smuggling shape)
    smug = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    assert raw(r.port, smug).startswith(b"HTTP/1.1 400")
    assert r.alive()
    assert httpx.get(r.url + "/hello").status_code == 200


def test_slowloris_is_cut_off(start_backend, start_router) -> None:
    b = start_backend("a")
    r = start_router([b.url], LIMITS)
    socks = []
    t0 = time.monotonic()
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", r.port), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    # keep dribbling a header byte now and then, as slowloris does
    for _ in range(3):
        time.sleep(0.15)
        for s in socks:
            with contextlib.suppress(OSError):
                s.sendall(b"X")
    answers = []
    for s in socks:
        data = b""
        try:
            while chunk := s.recv(4096):
                data += chunk
        except OSError:
            pass
        answers.append(data)
        s.close()
    assert time.monotonic() - t0 < 3
    assert all(a.startswith(b"HTTP/1.1 408") for a in answers), answers[:2]
    assert httpx.get(r.url + "/hello").status_code == 200


def test_rate_limit_429(start_backend, start_router) -> None:
    b = start_backend("a")
    r = start_router([b.url], "[limits]\nrate = 2.0\nburst = 5\n")
    with httpx.Client(base_url=r.url) as c:
        codes = [c.get("/hello") for _ in range(8)]
    assert [x.status_code for x in codes[:5]] == [200] * 5
    limited = [x for x in codes if x.status_code == 429]
    assert limited and limited[0].json()["reason"] == "rate_limited"
    assert int(limited[0].headers["retry-after"]) >= 1


def test_rate_limit_admits_a_client_below_it(start_backend, start_router) -> None:
    """20 req/s against rate 40, burst 1: every request is admitted, because the bucket refills
    continuously (it once refilled only at the router's 100 ms sweeps, a cap of 10 x burst per s)."""
    b = start_backend("a")
    r = start_router([b.url], "[limits]\nrate = 40.0\nburst = 1\n")
    with httpx.Client(base_url=r.url) as c:
        codes = []
        for _ in range(20):
            codes.append(c.get("/hello").status_code)
            time.sleep(0.05)
    assert codes == [200] * 20


def test_queue_full_is_503_with_retry_after(start_backend, start_router) -> None:
    b = start_backend("slow", "--delay-ms", "700")
    cfg = "[limits]\nupstream_max_concurrency = 1\nqueue_size = 1\nqueue_timeout = 0.3\n[retry]\nattempts = 1\n"
    r = start_router([b.url], cfg)
    import concurrent.futures as cf

    with cf.ThreadPoolExecutor(4) as pool:
        res = list(pool.map(lambda _: httpx.get(r.url + "/hello", timeout=5), range(4)))
    codes = sorted(x.status_code for x in res)
    assert codes[0] == 200 and 503 in codes
    busy = next(x for x in res if x.status_code == 503)
    assert busy.json()["reason"] == "unavailable" and "retry-after" in busy.headers


def test_sigterm_finishes_in_flight_then_exits(start_backend, start_router) -> None:
    b = start_backend("slow", "--delay-ms", "800")
    r = start_router([b.url])
    import concurrent.futures as cf

    with cf.ThreadPoolExecutor(1) as pool:
        fut = pool.submit(lambda: httpx.get(r.url + "/hello", timeout=5))
        time.sleep(0.3)
        r.proc.send_signal(signal.SIGTERM)
        resp = fut.result()
    assert resp.status_code == 200 and resp.text == "hello from slow"
    assert r.proc.wait(timeout=5) == 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(r.url + "/hello", timeout=1)


def test_admin_add_weight_remove_and_auth(start_backend, start_router) -> None:
    a, b = start_backend("a"), start_backend("b")
    r = start_router([a.url], env={"ROUTER_ADMIN_TOKEN": "s3cret"})
    with httpx.Client(base_url=r.url, timeout=5) as c:
        assert c.post("/__router/admin/upstreams", json={"url": b.url}).status_code == 401
        auth = {"Authorization": "Bearer s3cret"}
        resp = c.post("/__router/admin/upstreams", json={"url": b.url, "weight": 3}, headers=auth)
        assert resp.status_code == 200, resp.text
        assert r.upstream(b.url)["weight"] == 3.0
        assert c.post("/__router/admin/weight", json={"url": b.url, "weight": 2}, headers=auth).status_code == 200
        assert r.upstream(b.url)["weight"] == 2.0
        assert c.request("DELETE", f"/__router/admin/upstreams?url={a.url}", headers=auth).status_code == 200
        assert all(c.get("/hello").text == "hello from b" for _ in range(5))
        bad = c.post("/__router/admin/weight", json={"url": b.url, "weight": -1}, headers=auth)
        assert bad.status_code == 400 and bad.json()["reason"] == "validation"


def test_admin_reload_answers_and_ends_runtime_changes(start_backend, start_router) -> None:
    a, b = start_backend("a"), start_backend("b")
    r = start_router([a.url, b.url])
    with httpx.Client(base_url=r.url, timeout=5) as c:
        assert c.post(f"/__router/admin/drain?url={a.url}&value=false").status_code == 200
        assert not r.upstream(a.url)["draining"]  # "false" in a query string means false
        assert c.post("/__router/admin/drain", json={"url": a.url}).status_code == 200
        assert r.upstream(a.url)["draining"]
        resp = c.post("/__router/admin/reload")
        assert resp.status_code == 200 and resp.json() == {"result": "reloaded"}
        assert c.get("/hello").status_code == 200  # the same keep-alive connection goes on
    assert not r.upstream(a.url)["draining"]  # the file is the source of truth again
    assert r.status()["reloads"] == 1


def test_admin_is_closed_to_requests_relayed_by_a_local_proxy(start_backend, start_router) -> None:
    """A TLS terminator on loopback makes every client look local; once it is a trusted proxy,
    the loopback exemption no longer applies."""
    b = start_backend("a")
    r = start_router([b.url], 'trusted_proxies = ["127.0.0.1/32"]\n')
    resp = httpx.get(r.url + "/__router/admin/upstreams", timeout=5)
    assert resp.status_code == 403 and "ROUTER_ADMIN_TOKEN" in resp.json()["message"]


def test_unfinished_header_line_is_431_without_buffering(start_backend, start_router) -> None:
    """llhttp holds a header line until it ends; one that never ends is cut off at the header limit
    instead of growing (and being copied on every read) until the header timeout."""
    b = start_backend("a")
    r = start_router([b.url], LIMITS)
    with socket.create_connection(("127.0.0.1", r.port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: ")
        with contextlib.suppress(OSError):  # the router closes the connection as soon as it answers
            for _ in range(64):
                s.sendall(b"a" * 65536)
        answer = s.recv(65536)
    status, body = envelope(answer)
    assert status == 431 and body["reason"] == "headers_too_large"
    assert httpx.get(r.url + "/hello").status_code == 200


def test_request_framing_rules(start_backend, start_router) -> None:
    b = start_backend("a")
    r = start_router([b.url], LIMITS)
    # Host: exactly one in HTTP/1.1 (RFC 9112 3.2)
    for head in (b"GET /hello HTTP/1.1\r\n\r\n", b"GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"):
        assert envelope(talk(r.port, head)[0])[0] == 400
    # HTTP/1.0 without Host goes upstream as 1.1 with one: the address the client reached
    out, closed = talk(r.port, b"GET /headers HTTP/1.0\r\n\r\n")
    assert closed and json.loads(out.partition(b"\r\n\r\n")[2])["host"] == f"127.0.0.1:{r.port}"
    # HTTP/1.0 with Transfer-Encoding: faulty framing, so the connection closes after it (RFC 9112 6.1)
    out, closed = talk(r.port, b"POST /upload HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"3\r\nabc\r\n0\r\n\r\nGET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert closed and out.count(b"HTTP/1.1 ") == 1 and b'{"bytes": 3}' in out
    # CONNECT would make a reverse proxy an open tunnel
    assert envelope(talk(r.port, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")[0])[0] == 501
    # a bad body answers with the id of the request it belongs to
    bad = (b"POST /upload HTTP/1.1\r\nHost: x\r\nX-Request-Id: mine-1\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"3\r\nabc\r\nzz\r\n")
    status, body = envelope(talk(r.port, bad)[0])
    assert status == 400 and body["request_id"] == "mine-1"


def test_connection_ends_cleanly_around_a_request(start_backend, start_router) -> None:
    b = start_backend("a")
    r = start_router([b.url], LIMITS)
    hello = b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
    # a malformed message after good ones: those are answered, then the connection closed
    out, closed = talk(r.port, b"GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n" + hello + b"GARBAGE\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200") and out.endswith(b"hello from a") and closed
    assert out.count(b"HTTP/1.1 200") == 2
    # an upgrade the upstream does not take: the parser stopped at it, so the connection closes
    # after the answer instead of hanging (the pipelined GET is never read)
    up = b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
    out, closed = talk(r.port, up + hello)
    assert out.count(b"HTTP/1.1 200") == 1 and closed
    # the same for an upgrade request the router answers itself
    out, closed = talk(r.port, up.replace(b"/hello", b"/__router/health") + hello)
    assert out.count(b"HTTP/1.1 200") == 1 and closed
    # a 101 nobody asked for is the upstream's error, not a tunnel
    assert envelope(talk(r.port, b"GET /switch HTTP/1.1\r\nHost: x\r\n\r\n")[0])[0] == 502
    assert r.alive()
