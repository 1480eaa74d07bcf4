"""Basic proxying, header rules, router endpoints."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time

import httpx
import pytest

from tests.support.ports import free_port

pytestmark = pytest.mark.timeout(30)


def test_get_post_and_forwarding_headers(start_backend, start_router) -> None:
    b = start_backend("a")
    r = start_router([b.url])
    with httpx.Client(base_url=r.url, timeout=5) as c:
        resp = c.get("/hello")
        assert resp.status_code == 200 and resp.text == "hello from a"
        rid = resp.headers.get("x-request-id")
        h = c.get("/headers", headers={"X-Request-Id": "abc-123", "X-Forwarded-For": "6.6.6.6",
                                       "Connection": "keep-alive, X-Secret", "X-Secret": "s",
                                       "Proxy-Authorization": "x"}).json()
        assert h["x-request-id"] == "abc-123"
        assert h["x-forwarded-for"] == "127.0.0.1"  # peer not trusted: incoming XFF replaced
        assert h["x-forwarded-proto"] == "http"
        assert h["x-forwarded-host"] == f"127.0.0.1:{r.port}"
        assert "x-secret" not in h and "proxy-authorization" not in h and "connection" not in h
        bad = c.get("/headers", headers={"X-Request-Id": "bad id with spaces"}).json()
        assert bad["x-request-id"] != "bad id with spaces" and len(bad["x-request-id"]) >= 16
        assert c.post("/count", content=b"x").json() == {"count": 1}
        assert c.post("/upload", content=iter([b"a" * 1000, b"b" * 5])).json() == {"bytes": 1005}
        assert c.head("/hello").status_code == 200
        assert c.get("/hello").text == "hello from a"  # connection still sane after HEAD
    assert rid is None or rid  # backend does not echo; the router does not add it to responses


def test_trusted_proxy_keeps_forwarding_headers(start_backend, start_router) -> None:
    b = start_backend("a")
    r = start_router([b.url], 'trusted_proxies = ["127.0.0.0/8"]\n')
    h = httpx.get(r.url + "/headers", headers={"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https"}).json()
    assert h["x-forwarded-for"] == "6.6.6.6, 127.0.0.1"
    assert h["x-forwarded-proto"] == "https"


def test_router_endpoints_and_envelope(start_backend, start_router) -> None:
    b = start_backend("a")
    r = start_router([b.url])
    with httpx.Client(base_url=r.url, timeout=5) as c:
        nf = c.get("/__router/nope")
        assert nf.status_code == 404
        body = nf.json()
        assert body["success"] is False and body["reason"] == "not_found" and body["error"] == {"status": 404}
        assert body["request_id"] == nf.headers["x-request-id"]
        assert nf.headers["content-type"] == "application/json"
        page = c.get("/__router/status")
        assert page.status_code == 200 and "<table>" in page.text
        js = c.get("/__router/status", headers={"Accept": "application/json"}).json()
        assert js["pools"][0]["upstreams"][0]["url"] == b.url
        c.get("/hello")
        m = c.get("/__router/metrics").text
        assert 'router_requests_total{code="200"}' in m
        assert "router_upstream_healthy" in m


def test_no_upstream_available_is_503(start_router) -> None:

    r = start_router([f"http://127.0.0.1:{free_port()}"])
    resp = httpx.get(r.url + "/hello", timeout=10)
    assert resp.status_code in (502, 503)
    assert resp.json()["reason"] in ("bad_gateway", "unavailable")


def _raw_exchange(port: int, request: bytes, ends: tuple[bytes, ...] = (b"hello from a", b"0")) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(ends):
            part = s.recv(65536)
            if not part:
                break
            data += part
        return data


def test_response_head_passed_through_or_rebuilt(start_backend, start_router) -> None:
    b = start_backend("a")
    r = start_router([b.url])
    # Plain HTTP/1.1 keep-alive with Content-Length: the upstream's head goes out as received
    # (the test backend's reason phrase is "X").
    out = _raw_exchange(r.port, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 X\r\n") and out.endswith(b"hello from a")
    assert b"connection:" not in out.lower()
    # The client wants the connection closed: the head is rebuilt to say so.
    out = _raw_exchange(r.port, b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\nConnection: close\r\n" in out
    # HTTP/1.0 client: rebuilt, and closed since it did not ask for keep-alive.
    out = _raw_exchange(r.port, b"GET /hello HTTP/1.0\r\nHost: x\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\nConnection: close\r\n" in out
    # HTTP/1.0 asking for keep-alive: kept, and told so, since 1.0 keeps alive only when asked.
    out = _raw_exchange(r.port, b"GET /hello HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\nConnection: keep-alive\r\n" in out
    # HTTP/1.0 never gets chunked framing: an unframed upstream body ends with the connection.
    out = _raw_exchange(r.port, b"GET /sse?n=1&interval=0 HTTP/1.0\r\nHost: x\r\n\r\n", (b"\n\n",))
    assert b"transfer-encoding" not in out.lower() and b"\r\nConnection: close\r\n" in out
    # Upstream chunked (hop-by-hop Transfer-Encoding): re-framed by the router.
    out = _raw_exchange(r.port, b"GET /sse?n=1&interval=0 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK\r\n") and b"Transfer-Encoding: chunked\r\n" in out
    assert out.rstrip().endswith(b"0")


def test_100_continue_is_forwarded(start_backend, start_router) -> None:
    import socket

    b = start_backend("a")
    r = start_router([b.url])
    with socket.create_connection(("127.0.0.1", r.port), timeout=5) as s:
        s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        s.settimeout(0.8)  # well before a client's own expect timeout (curl: 1 s) would send the body anyway
        interim = s.recv(65536)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.settimeout(5)
        s.sendall(b"hello")
        data = b""
        while not data.endswith(b"}"):
            part = s.recv(65536)
            assert part
            data += part
        assert data.startswith(b"HTTP/1.1 200") and data.endswith(b'{"bytes": 5}')


def test_response_headers_named_in_connection_are_removed(start_backend, start_router) -> None:
    b = start_backend("a")
    r = start_router([b.url])
    out = _raw_exchange(r.port, b"GET /hop HTTP/1.1\r\nHost: x\r\n\r\n", (b"hop",))
    head = out.split(b"\r\n\r\n", 1)[0].lower()
    assert out.endswith(b"hop") and b"\r\nx-end: kept" in head
    assert b"x-hop" not in head and b"connection:" not in head


def test_interim_responses_reach_http11_clients_only(start_backend, start_router) -> None:
    b = start_backend("a")
    r = start_router([b.url])
    data = _raw_exchange(r.port, b"GET /hints HTTP/1.1\r\nHost: x\r\n\r\n", (b"hinted",))
    assert data.endswith(b"hinted")
    assert data.startswith(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                           b"HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 ")
    # RFC 9110 15.2: no 1xx for an HTTP/1.0 client
    old = _raw_exchange(r.port, b"GET /hints HTTP/1.0\r\nHost: x\r\n\r\n", (b"hinted",))
    assert old.startswith(b"HTTP/1.1 200 ") and old.endswith(b"hinted")


def test_stray_response_drops_the_upstream_connection(start_backend, start_router) -> None:
    """An upstream that answers twice in one segment: the client gets the answer it asked for, the
    connection is closed rather than pooled, and the next request gets its own answer."""
    b = start_backend("a")
    r = start_router([b.url])
    with httpx.Client(base_url=r.url, timeout=5) as c:
        for _ in range(3):
            first = c.get("/stray")
            assert (first.status_code, first.text) == (200, "asked")
            after = c.get("/hello")
            assert (after.status_code, after.text) == (200, b.get("/hello").text)
    assert r.alive()


def test_malformed_upstream_head_is_502(start_backend, start_router) -> None:
    """A response head with a bare LF or CR, or an obsolete folded line, is refused rather than
    forwarded. The router forwards a head as received once llhttp has parsed it, and relies on
    llhttp refusing these for the first blank line to be the head's end."""
    b = start_backend("a")
    r = start_router([b.url])
    with httpx.Client(base_url=r.url, timeout=5) as c:
        for kind in ("lf", "cr", "fold"):
            bad = c.get("/badhead", params={"kind": kind})
            assert bad.status_code == 502, (kind, bad.text)
            body = bad.json()
            assert body["success"] is False and body["error"] == {"status": 502}, (kind, body)
            assert c.get("/hello").status_code == 200
    assert r.alive()


def _seen_headers(out: bytes) -> list[dict[str, str]]:
    """The header dicts /headers answered with, in order: what the upstream received."""
    assert out.count(b"HTTP/1.1 200 ") == out.count(b"HTTP/1.1 "), out
    return [json.loads(body) for body in re.findall(rb"\r\n\r\n(\{[^}]*\})", out)]


def _read_answers(s: socket.socket, count: int) -> bytes:
    data = b""
    while len(re.findall(rb"\r\n\r\n\{[^}]*\}", data)) < count:
        part = s.recv(65536)
        assert part, data
        data += part
    return data


def test_request_head_forwarded_whole_or_rebuilt(start_backend, start_router) -> None:
    """A request head is forwarded as received when it can be (whole in one read, every header kept,
    a plain request line), else rebuilt; the upstream must see the same request either way. The
    test backend cannot parse a doubled space or a leading blank line, so those two prove a rebuild."""
    b = start_backend("a")
    r = start_router([b.url])
    want = {"host": "x", "x-a": "1", "x-forwarded-for": "127.0.0.1", "x-forwarded-proto": "http",
            "x-forwarded-host": "x"}
    cases = {
        "plain": b"GET /headers HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n",
        "doubled space": b"GET  /headers HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n",
        "leading blank line": b"\r\nGET /headers HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n",
        "hop-by-hop header": b"GET /headers HTTP/1.1\r\nHost: x\r\nKeep-Alive: 5\r\nX-A: 1\r\n\r\n",
        "spoofed forwarding": b"GET /headers HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6\r\nX-A: 1\r\n\r\n",
    }
    ids = set()
    for name, request in cases.items():
        (seen,) = _seen_headers(_raw_exchange(r.port, request, (b"}",)))
        assert {k: seen.get(k) for k in want} == want and "keep-alive" not in seen, (name, seen)
        ids.add(seen["x-request-id"])
    assert len(ids) == len(cases)
    with socket.create_connection(("127.0.0.1", r.port), timeout=5) as s:
        # pipelined: the second head does not start the read, so it is rebuilt
        s.sendall(cases["plain"] + cases["plain"].replace(b"X-A: 1", b"X-B: 2"))
        first, second = _seen_headers(_read_answers(s, 2))
        assert first["x-a"] == "1" and "x-b" not in first
        assert second["x-b"] == "2" and "x-a" not in second and second["host"] == "x"
        # a head split across reads is rebuilt from what was parsed
        s.sendall(cases["plain"][:20])
        time.sleep(0.05)
        s.sendall(cases["plain"][20:])
        (split,) = _seen_headers(_read_answers(s, 1))
        assert {k: split.get(k) for k in want} == want


@pytest.mark.parametrize("header", ["X-User", "Host"])
def test_hash_policy_keeps_a_key_on_one_host(start_backend, start_router, header: str) -> None:
    """Any header can be the key, Host (which the router also reads itself) as much as X-User; a
    request without it falls back to the cookie when one is configured."""
    backends = [start_backend(n) for n in ("a", "b", "c")]
    cfg = f'[balancing]\npolicy = "hash"\nhash_header = "{header}"\nhash_cookie = "sid"\n'
    r = start_router([b.url for b in backends], cfg)

    def hosts(headers: dict[str, str], cookies: dict[str, str] | None = None) -> set[str]:
        with httpx.Client(base_url=r.url, timeout=5, cookies=cookies) as c:
            return {c.get("/hello", headers=headers).headers["x-backend"] for _ in range(12)}

    spread: set[str] = set()
    for key in ("alice", "bob", "carol", "dave", "erin", "frank"):
        got = hosts({header: key})
        assert len(got) == 1, (key, got)  # sticky
        spread |= got
    assert len(spread) > 1  # and different keys land on different hosts
    if header != "Host":  # every request has a Host, so this one never falls back
        assert len(hosts({}, {"sid": "s-42"})) == 1


def _exchange(port: int, data: bytes, wait: float = 2.0) -> bytes:
    """Everything that comes back before the router closes or goes quiet for ``wait`` seconds."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(data)
        out = b""
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := s.recv(65536):
                out += chunk
        return out


def test_head_answers_and_router_errors_keep_connections_in_step(start_backend, start_router) -> None:
    b = start_backend("a")
    r = start_router([b.url])
    # a HEAD whose answer ends with its head (Content-Length: 0): the connection it came on is
    # reused by the next request only once that answer is fully parsed
    t0 = time.monotonic()
    out = _exchange(r.port, b"HEAD /bytes?n=0 HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 1.0)
    assert out.count(b"HTTP/1.1 200") == 2 and out.endswith(b"hello from a"), out
    assert time.monotonic() - t0 < 1.9  # the GET was not left to time out
    # the router's own answer to a HEAD has no body, so the next response is read in step
    dead = start_router([f"http://127.0.0.1:{free_port()}"])
    out = _exchange(dead.port, b"HEAD /x HTTP/1.1\r\nHost: x\r\n\r\nHEAD /__router/health HTTP/1.1\r\nHost: x\r\n\r\n")
    first, _, rest = out.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 502") and b"content-length: " in first.lower()
    assert rest.startswith(b"HTTP/1.1 200") and rest.endswith(b"\r\n\r\n"), out


def test_connection_listed_and_coded_request_headers(start_backend, start_router) -> None:
    b = start_backend("a")
    r = start_router([b.url])
    with httpx.Client(base_url=r.url, timeout=5) as c:
        # one token, and two Connection lines: each names a hop-by-hop field (RFC 9110 7.6.1)
        h = c.get("/headers", headers={"Connection": "X-Secret", "X-Secret": "s"}).json()
        assert "x-secret" not in h
    out = _exchange(r.port, b"GET /headers HTTP/1.1\r\nHost: x\r\nConnection: X-A\r\nConnection: keep-alive\r\n"
                            b"X-A: 1\r\nX-B: 2\r\n\r\n", 1.0)
    seen = json.loads(out.partition(b"\r\n\r\n")[2])
    assert "x-a" not in seen and seen["x-b"] == "2"
    # a Connection field cannot drop the message's framing: the body would reach the upstream as a
    # request of its own (smuggled past the router's parser)
    with httpx.Client(base_url=r.url, timeout=5) as c:
        h = c.post("/headers", content=b"abc", headers={"Connection": "content-length, host"}).json()
        assert h["content-length"] == "3" and h["host"] == f"127.0.0.1:{r.port}"
        assert c.get("/hello").text == "hello from a"
    # transfer codings before chunked are passed on, not dropped
    out = _exchange(r.port, b"POST /headers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                            b"3\r\nabc\r\n0\r\n\r\n", 1.0)
    assert json.loads(out.partition(b"\r\n\r\n")[2])["transfer-encoding"] == "gzip, chunked"


def test_slow_client_does_not_leave_a_paused_connection_in_the_pool(start_backend, start_router) -> None:
    """A response that filled a slow client's buffers paused the upstream connection; pooled still
    paused, it stalled the next request on it until a 504."""
    b = start_backend("a")
    r = start_router([b.url], "[timeouts]\nrequest = 4.0\n")
    sizes = [3_000_000] + [150_000] * 20
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", r.port))
        s.sendall(b"".join(b"GET /bytes?n=%d&whole=1 HTTP/1.1\r\nHost: x\r\n\r\n" % n for n in sizes))
        time.sleep(0.5)  # the client reads nothing for a while: the router pauses the upstream
        s.settimeout(3.5)
        got = 0
        with contextlib.suppress(TimeoutError):
            while got < sum(sizes) and (chunk := s.recv(65536)):
                got += len(chunk)
    assert got >= sum(sizes), f"a response stalled after {got} of {sum(sizes)} bytes"
