"""Parse time of hostile request bodies, each against a 1-pair body parsed in the same run.

    .venv/bin/python bench/hostile_input.py [--repeat 5]

Every shape is as large as its route allows (`MAX_JSON_BYTES`, 1 MiB by default) and goes through
the code a route runs: `parse_body` (url-encoded and JSON) on a Starlette request fed in 64 KiB
chunks, and `parse_form_stream` for multipart (fields only: no storage is touched). A shape must
finish in well under 100 ms; the time is the best of `--repeat` runs (the machine is shared).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LOG_LEVEL", "WARNING")

import msgspec  # noqa: E402
from starlette.requests import Request  # noqa: E402

from shared.config import get_settings  # noqa: E402
from shared.http.errors import ApiError  # noqa: E402
from shared.http.forms import parse_form_stream  # noqa: E402
from shared.http.validation import parse_body  # noqa: E402
from shared.storage.errors import MalformedForm  # noqa: E402

LIMIT = get_settings().max_json_bytes
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
BOUNDARY = "----bench"


def shapes() -> list[tuple[str, str, bytes]]:
    """(name, content type, body), each close to the 1 MiB limit."""
    nest = (LIMIT // 2) - 1
    parts = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx\r\n'.encode() for i in range(20_000)
    )
    return [
        ("1 pair (baseline)", FORM, b"email=a%40b.c"),
        ("250k repeated keys", FORM, b"&".join([b"a=1"] * 250_000)[:LIMIT]),
        ("one 1 MiB key", FORM, b"k" * (LIMIT - 2) + b"=1"),
        ("1k keys of 1 KiB", FORM, b"&".join(b"%04d" % i + b"k" * 1020 + b"=1" for i in range(1000))[:LIMIT]),
        ("JSON nested arrays", JSON, b"[" * nest + b"]" * nest),
        ("JSON nested objects", JSON, b'{"a":' * (LIMIT // 6) + b"1" + b"}" * (LIMIT // 6)),
        ("JSON 250k-element array", JSON, b'{"a":[' + b",".join([b"1"] * 250_000)[: LIMIT - 8] + b"]}"),
        ("JSON 100k keys", JSON, msgspec.json.encode({f"k{i}": 1 for i in range(100_000)})[:LIMIT - 1]),
        ("multipart 20k parts", f"multipart/form-data; boundary={BOUNDARY}",
         parts[:LIMIT] + f"--{BOUNDARY}--\r\n".encode()),
    ]


def request(content_type: str, body: bytes) -> Request:
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)] or [b""]

    async def receive() -> dict[str, Any]:
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers, "query_string": b""}, receive)


async def parse_once(content_type: str, body: bytes) -> str:
    started = time.perf_counter()
    outcome = "parsed"
    try:
        if content_type.startswith("multipart/"):
            req = request(content_type, body)
            await parse_form_stream(content_type, req.stream(), {}, storage=object())  # type: ignore[arg-type]
        else:
            await parse_body(request(content_type, body), dict)
    except ApiError as exc:
        outcome = f"{exc.status} {exc.reason}"
    except MalformedForm as exc:
        outcome = f"400 {str(exc)[:40]}"
    return f"{(time.perf_counter() - started) * 1000:.2f}|{outcome}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = []
    for name, content_type, body in shapes():
        runs = [await parse_once(content_type, body) for _ in range(args.repeat)]
        best = min(float(r.split("|")[0]) for r in runs)
        rows.append((name, len(body), best, runs[0].split("|")[1]))
    base = rows[0][2]
    print(f"{'shape':26} {'bytes':>9} {'best ms':>9} {'x 1-pair':>9}  outcome")
    for name, size, ms, outcome in rows:
        print(f"{name:26} {size:9d} {ms:9.2f} {ms / base:9.1f}  {outcome}")
    worst = max(rows[1:], key=lambda r: r[2])
    print(f"worst: {worst[0]} {worst[2]:.1f} ms ({'under' if worst[2] < 100 else 'OVER'} the 100 ms budget)")


if __name__ == "__main__":
    asyncio.run(main())
