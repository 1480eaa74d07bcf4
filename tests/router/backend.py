"""Small real HTTP/1.1 backend for router tests (run as a subprocess).

python tests/router/backend.py --port P --name N

Endpoints: /health, /hello, /bytes?n=[&whole=1], /upload (POST, counts bytes), /count (POST; ?die=1 exits after
reading the request without answering), /stats, /sse?n=&interval=, /fail?on=0|1[&health=0], /headers, /slow?ms=,
/ws[?wait=ms][&push=n] (minimal upgrade echo), /cutoff (reset mid body), /switch (101 unasked), /stray (answers twice),
/badhead?kind=lf|cr|fold (a malformed head).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import struct
import sys
import time
from urllib.parse import parse_qs, urlsplit

STATE = {"fail": False, "fail_health": True, "count": 0, "requests": 0, "name": "", "delay": 0.0}
CHUNK = b"x" * 65536


async def read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> int:
    total = 0
    if "content-length" in headers:
        left = int(headers["content-length"])
        while left:
            data = await reader.read(min(left, 1 << 20))
            if not data:
                raise ConnectionError
            left -= len(data)
            total += len(data)
    elif "chunked" in headers.get("transfer-encoding", ""):
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            left = size
            while left:
                data = await reader.read(min(left, 1 << 20))
                if not data:
                    raise ConnectionError
                left -= len(data)
            total += size
            await reader.readline()
    return total


def response(status: int, body: bytes, ctype: str = "text/plain", extra: str = "") -> bytes:
    return (f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            f"X-Backend: {STATE['name']}\r\n{extra}\r\n").encode() + body


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            method, target, _ = line.decode().split(" ", 2)
            headers: dict[str, str] = {}
            while True:
                h = await reader.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                k, _, v = h.decode().partition(":")
                headers[k.strip().lower()] = v.strip()
            url = urlsplit(target)
            q = {k: v[-1] for k, v in parse_qs(url.query).items()}
            path = url.path
            STATE["requests"] += 1
            if headers.get("expect", "").lower() == "100-continue":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                await writer.drain()
            if path == "/count":
                await read_body(reader, headers)
                STATE["count"] += 1
                print(f"COUNT {STATE['count']}", flush=True)
                if q.get("die"):
                    os._exit(0)
            else:
                n = await read_body(reader, headers)
            if path == "/health":
                bad = STATE["fail"] and STATE["fail_health"]
                out = response(503 if bad else 200, b"bad" if bad else b"ok")
            elif path == "/fail":
                STATE["fail"] = q.get("on") == "1"
                STATE["fail_health"] = q.get("health", "1") == "1"
                out = response(200, b"ok")
            elif STATE["fail"]:
                out = response(503, b"failing")
            elif path == "/count":
                out = response(200, json.dumps({"count": STATE["count"]}).encode(), "application/json")
            elif path == "/stats":
                out = response(200, json.dumps(STATE).encode(), "application/json")
            elif path == "/upload":
                out = response(200, json.dumps({"bytes": n}).encode(), "application/json")
            elif path == "/headers":
                out = response(200, json.dumps(headers).encode(), "application/json")
            elif path == "/hop":  # a header named in Connection is hop-by-hop too
                out = response(200, b"hop", extra="Connection: keep-alive, X-Hop\r\nX-Hop: secret\r\nX-End: kept\r\n")
            elif path == "/hints":  # interim responses before the final one
                writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
                writer.write(b"HTTP/1.1 102 Processing\r\n\r\n")
                await writer.drain()
                out = response(200, b"hinted")
            elif path == "/cutoff":  # a close-delimited body cut by a reset, not ended by a FIN
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npartial")
                await writer.drain()
                await asyncio.sleep(0.1)
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            elif path == "/switch":  # 101 without being asked to upgrade
                out = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n"
            elif path == "/stray":  # a second response nobody asked for, in the same segment
                out = response(200, b"asked") + response(200, b"stray")
            elif path == "/badhead":  # line ends llhttp refuses: a bare LF or CR, obsolete folding
                sep = {"lf": "\n", "cr": "\r", "fold": "\r\n  folded\r\n"}[q.get("kind", "lf")]
                out = f"HTTP/1.1 200 OK\r\nX-A: 1{sep}Content-Length: 3\r\n\r\nbad".encode()
            elif path == "/slow":
                await asyncio.sleep(int(q.get("ms", "100")) / 1000)
                out = response(200, b"slow")
            elif path == "/bytes":
                total = int(q.get("n", "10"))
                writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {total}\r\nX-Backend: {STATE['name']}\r\n"
                             "Content-Type: application/octet-stream\r\n\r\n".encode())
                if q.get("whole"):  # the body in one write
                    writer.write(b"x" * total)
                    total = 0
                while total:
                    part = CHUNK[: min(total, len(CHUNK))]
                    writer.write(part)
                    total -= len(part)
                    await writer.drain()
                continue
            elif path == "/sse":
                count = int(q.get("n", "5"))
                interval = float(q.get("interval", "0.1"))
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n")
                await writer.drain()
                for i in range(count):
                    data = f"id: {i}\ndata: {time.time():.6f}\n\n".encode()
                    writer.write(b"%x\r\n%s\r\n" % (len(data), data))
                    await writer.drain()
                    await asyncio.sleep(interval)
                writer.write(b"0\r\n\r\n")
                await writer.drain()
                continue
            elif path == "/ws" and headers.get("upgrade", "").lower() == "websocket":
                await asyncio.sleep(int(q.get("wait", "0")) / 1000)  # ?wait=ms before the 101
                writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
                await writer.drain()
                push = int(q.get("push", "0"))  # ?push=N: send N bytes down the tunnel first
                while push > 0:
                    writer.write(CHUNK[: min(push, len(CHUNK))])
                    push -= len(CHUNK)
                    await writer.drain()
                while True:  # raw echo, enough to prove the tunnel
                    data = await reader.read(65536)
                    if not data:
                        return
                    writer.write(data)
                    await writer.drain()
            else:
                if STATE["delay"]:
                    await asyncio.sleep(STATE["delay"])
                out = response(200, f"hello from {STATE['name']}".encode())
            writer.write(out)
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                return
    except (ConnectionError, ValueError, asyncio.IncompleteReadError):
        return
    finally:
        writer.close()


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--name", default="b")
    p.add_argument("--fail", action="store_true")
    p.add_argument("--delay-ms", type=float, default=0.0)
    a = p.parse_args()
    STATE["delay"] = a.delay_ms / 1000
    STATE["name"] = a.name
    STATE["fail"] = a.fail
    server = await asyncio.start_server(handle, "127.0.0.1", a.port, backlog=1024, limit=1 << 20)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
