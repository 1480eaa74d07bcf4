"""Upload benchmark: a 1 GiB archive through the streamed form route and the direct multipart flow.

Both go over real HTTP to the ASGI app served by uvicorn on loopback, into the local storage backend;
a plain file copy of the same file in the same run is the yardstick. The server runs in its own process
so its memory can be read from /proc: peak RSS growth is VmHWM after the upload minus the RSS before it
(the peak is reset between runs through /proc/<pid>/clear_refs). Every flow, the copy included, ends
with `sync`, so each is timed to the disk rather than to the page cache, and none pays for another's
dirty pages.

    .venv/bin/python bench/upload.py [--size-mib 1024]

Targets: server RSS growth < 64 MiB for each flow; local backend ≥ 0.5× the copy's MB/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MIB = 1024 * 1024
CHUNK = 1 * MIB
BOUNDARY = "benchBoundary7MA4YWxkTrZu0gW"


def create_app():  # noqa: ANN201 - uvicorn factory
    """The files route plus a bench-only form route that streams one archive field to storage."""
    from starlette.routing import Route

    import functions.files as files
    from shared.http.app import build_app
    from shared.http.envelope import created
    from shared.storage import FileRule, parse_streamed_form

    async def form_upload(request):  # noqa: ANN001, ANN202
        form = await parse_streamed_form(
            request, files={"file": FileRule(kind="model_archive", max_bytes=4 * 1024 * MIB, required=True)}
        )
        stored = form.file("file")
        assert stored is not None
        return created({"key": stored.key, "size": stored.size, "type": stored.type, "name": form.get("name")})

    return build_app([Route("/bench/form", form_upload, methods=["POST"]), *files.routes])


# --- measuring the server process ---------------------------------------------------------------
def _status(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            name, amount = line.split(":")
            values[name] = int(amount.split()[0]) * 1024
    return values


def _reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")


class Server:
    def __init__(self, storage_dir: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "STORAGE_DIR": str(storage_dir),
            "PUBLIC_API_URL": self.base,
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        env.pop("S3_ACCOUNT_ID", None)
        env.pop("S3_ENDPOINT_URL", None)
        command = [
            sys.executable, "-m", "uvicorn", "bench.upload:create_app", "--factory", "--host", "127.0.0.1",
            "--port", str(self.port), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
            "--log-level", "warning",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("uvicorn did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def measure(server: Server, run) -> tuple[float, int]:  # noqa: ANN001
    """(seconds, peak RSS growth in bytes) of `run()` as seen in the server process."""
    pid = server.process.pid
    os.sync()
    _reset_peak(pid)
    before = _status(pid)["VmRSS"]
    started = time.perf_counter()
    run()
    os.sync()  # on disk, like the copy: otherwise whichever runs first just fills the page cache
    elapsed = time.perf_counter() - started
    return elapsed, _status(pid)["VmHWM"] - before


# --- the flows ------------------------------------------------------------------------------------
def make_source(path: Path, size: int) -> None:
    block = b"PK\x03\x04" + os.urandom(CHUNK - 4)
    with open(path, "wb") as out:
        written = 0
        while written < size:
            piece = block[: min(CHUNK, size - written)]
            out.write(piece)
            written += len(piece)
            block = os.urandom(CHUNK) if written < 8 * MIB else block


def file_chunks(path: Path, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
    remaining = os.path.getsize(path) - offset if length is None else length
    with open(path, "rb") as src:
        src.seek(offset)
        while remaining > 0:
            chunk = src.read(min(CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def form_body(path: Path) -> Iterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\nBench chair\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="bench.zip"\r\n'
        "Content-Type: application/zip\r\n\r\n"
    ).encode()
    yield from file_chunks(path)
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def form_flow(server: Server, source: Path) -> None:
    import httpx

    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    with httpx.Client(timeout=600) as http:
        response = http.post(f"{server.base}/bench/form", content=form_body(source), headers=headers)
    response.raise_for_status()
    assert response.json()["data"]["size"] == os.path.getsize(source), response.text


def multipart_flow(server: Server, source: Path, storage_dir: Path) -> None:
    """Create/complete through the storage API (as /api/uploads does); every byte goes over HTTP."""
    import httpx

    from shared.config import get_settings
    from shared.storage.base import CompletedPart
    from shared.storage.local import LocalStorage
    from shared.storage.parts import part_ranges, part_size_for

    storage = LocalStorage(storage_dir, secret=get_settings().url_signing_secret, api_base=server.base)
    size = os.path.getsize(source)
    plan = part_ranges(size, part_size_for(size))
    key = "models/bench-direct.zip"

    async def prepare() -> tuple[str, list[str]]:
        upload_id = await storage.create_multipart("files", key, content_type="application/zip")
        urls = [await storage.presign_part("files", key, upload_id, n, expires_in=3600) for n, _, _ in plan]
        return upload_id, urls

    upload_id, urls = asyncio.run(prepare())
    parts = []
    with httpx.Client(timeout=600) as http:
        for (number, offset, length), url in zip(plan, urls, strict=True):
            response = http.put(url, content=file_chunks(source, offset, length))
            response.raise_for_status()
            parts.append(CompletedPart(number, response.headers["etag"]))
    info = asyncio.run(storage.complete_multipart("files", key, upload_id, parts))
    assert info.size == size


def copy_flow(source: Path, target: Path, *, sendfile: bool) -> float:
    os.sync()
    started = time.perf_counter()
    if sendfile:
        shutil.copyfile(source, target)  # sendfile/copy_file_range on Linux
    else:
        with open(source, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
    os.sync()
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    size = args.size_mib * MIB
    import httpx  # noqa: F401 - imported before timing starts

    import shared.storage.local  # noqa: F401

    with tempfile.TemporaryDirectory(prefix="tridmo-bench-") as tmp:
        work = Path(tmp)
        source = work / "source.zip"
        make_source(source, size)
        storage_dir = work / "storage"
        server = Server(storage_dir)
        try:
            rows = []
            # best of two runs each, so page-cache warm-up does not flatter the uploads
            copy_s = min(copy_flow(source, work / "copy.zip", sendfile=True) for _ in range(2))
            rw_s = min(copy_flow(source, work / "copy.zip", sendfile=False) for _ in range(2))
            copy_s = min(copy_s, rw_s)
            rows.append(("plain copy (shutil.copyfile)", copy_s, None))
            rows.append(("plain copy (read/write 1 MiB)", rw_s, None))
            form_s, form_rss = measure(server, lambda: form_flow(server, source))
            rows.append(("form upload → local storage", form_s, form_rss))
            direct_s, direct_rss = measure(server, lambda: multipart_flow(server, source, storage_dir))
            rows.append(("direct multipart → local storage", direct_s, direct_rss))
        finally:
            server.stop()
    mb = size / 1e6
    print(f"file: {args.size_mib} MiB; server RSS growth target < 64 MiB; speed target ≥ 0.5× copy")
    print(f"{'flow':36} {'seconds':>8} {'MB/s':>8} {'× copy':>7} {'RSS growth':>11}  (× copy: vs the faster copy)")
    for name, seconds, rss in rows:
        growth = f"{rss / MIB:8.1f} MiB" if rss is not None else ""
        print(f"{name:36} {seconds:8.2f} {mb / seconds:8.0f} {copy_s / seconds:7.2f} {growth:>11}")


if __name__ == "__main__":
    main()
