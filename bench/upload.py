"""Upload benchmark: a 1 GiB archive through the streamed form route and the direct multipart flow.

Both go over real HTTP to the ASGI app served by uvicorn on loopback, into the local storage backend;
a plain file copy of the same file in the same run is the yardstick. The server runs in its own process
so its memory can be read from /proc: peak RSS growth is VmHWM after the upload minus the RSS before it
(the peak is reset between runs through /proc/<pid>/clear_refs). Every flow, the copy included, ends
with `sync`, so each is timed to the disk rather than to the page cache, and none pays for another's
dirty pages: each run's output is deleted (untimed) before the next, and every flow is timed the same
way, as the best of `--runs` interleaved runs. The client sends bodies with `sendfile` from the page cache
(no Python buffers), so it is not what is measured; the CPU columns show where the seconds went.
The "answered" column splits each time: before the final `sync` (the copy returned, the last response
arrived) and, by difference, the writeback still owed to the disk at that moment. The multipart flow runs
twice: with `--part-concurrency` parts in flight, as S3 clients upload, and one part at a time, where
every part's request set-up and final write are paid in series.

    .venv/bin/python bench/upload.py [--size-mib 1024] [--runs 3] [--part-concurrency 4]

Targets: server RSS growth < 64 MiB for each flow; local backend ≥ 0.5× the copy's MB/s. On a shared
2-vCPU VM wall times swing by 2× from run to run; compare the best of several runs, and the CPU columns.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
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
    from shared.http.forms import FileRule, parse_streamed_form
    from shared.process import tune_process

    tune_process()  # what `python -m functions` does at the start of every serving process

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


@dataclass
class Run:
    seconds: float
    answered: float = 0.0  # seconds until the copy returned / the last response arrived, before `sync`
    rss: int | None = None  # peak server RSS growth, bytes
    server_cpu: float | None = None  # server process user+system seconds
    client_cpu: float = 0.0  # this process (the client, or the copy itself) user+system seconds


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def measure(server: Server | None, run: Callable[[], Path | None]) -> Run:
    """Time `run()` to the disk; its output (the returned path) is removed afterwards, untimed.

    Every flow, the copy included, leaves the page cache as it found it: the pages its output took are
    freed before the next run, so no flow is timed against another's dirty or cached pages.
    """
    pid = server.process.pid if server else None
    os.sync()
    if pid:
        _reset_peak(pid)
        before, server_cpu = _status(pid)["VmRSS"], _cpu(pid)
    own = _own_cpu()
    started = time.perf_counter()
    output = run()
    answered = time.perf_counter() - started
    os.sync()  # on disk, like the copy: otherwise whichever runs first just fills the page cache
    elapsed = time.perf_counter() - started
    result = Run(elapsed, answered, client_cpu=_own_cpu() - own)
    if pid:
        result.rss = _status(pid)["VmHWM"] - before
        result.server_cpu = _cpu(pid) - server_cpu
    if output is not None:
        output.unlink()
    return result


def best(runs: list[Run]) -> Run:
    """The fastest run, with the worst RSS growth seen in any run."""
    fastest = min(runs, key=lambda run: run.seconds)
    growth = [run.rss for run in runs if run.rss is not None]
    return Run(
        fastest.seconds, fastest.answered, max(growth) if growth else None, fastest.server_cpu, fastest.client_cpu
    )


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


class Client:
    """A lean HTTP/1.1 client (keep-alive), so the client is never what the bench measures.

    Bodies go out with `os.sendfile` straight from the page cache: no Python buffers, no user-space copy,
    as a browser or curl would send a file. Headers and the response go through `http.client`.
    """

    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=600)

    def send(
        self,
        method: str,
        url: str,
        source: Path,
        offset: int,
        length: int,
        *,
        head: bytes = b"",
        tail: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> http.client.HTTPResponse:
        target = url.removeprefix(self.conn_base()) if url.startswith("http") else url
        self.conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in {**(headers or {}), "Content-Length": str(len(head) + length + len(tail))}.items():
            self.conn.putheader(name, value)
        self.conn.endheaders(head or None)
        sock = self.conn.sock
        assert sock is not None
        with open(source, "rb") as src:
            if sock.sendfile(src, offset, length) != length:  # os.sendfile underneath
                raise RuntimeError("the source file is shorter than expected")
        if tail:
            sock.sendall(tail)
        response = self.conn.getresponse()
        response.body = response.read()  # type: ignore[attr-defined]
        if response.status >= 400:
            raise RuntimeError(f"{method} {target}: {response.status} {response.body!r}")  # type: ignore[attr-defined]
        return response

    def conn_base(self) -> str:
        return f"http://{self.conn.host}:{self.conn.port}"

    def close(self) -> None:
        self.conn.close()


def form_flow(server: Server, source: Path) -> str:
    """POST the file as a multipart form; returns the stored key."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\nBench chair\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="bench.zip"\r\n'
        "Content-Type: application/zip\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    size = os.path.getsize(source)
    client = Client(server.base)
    try:
        headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
        response = client.send("POST", "/bench/form", source, 0, size, head=head, tail=tail, headers=headers)
    finally:
        client.close()
    data = json.loads(response.body)["data"]  # type: ignore[attr-defined]
    assert data["size"] == size, data
    return data["key"]


def multipart_flow(server: Server, source: Path, storage_dir: Path, concurrency: int) -> str:
    """Create/complete through the storage API, parts signed as `/api/uploads` signs them (max_bytes = the
    part size); every byte goes over HTTP. `concurrency` connections each PUT one part after another, as S3
    clients do (the AWS SDK for JavaScript sends 4 parts at a time, boto3 10, Uppy 6). Returns the key."""
    from concurrent.futures import ThreadPoolExecutor

    from shared.config import get_settings
    from shared.storage.backends.local import LocalStorage
    from shared.storage.base import CompletedPart
    from shared.storage.parts import part_ranges, part_size_for

    storage = LocalStorage(storage_dir, secret=get_settings().url_signing_secret, api_base=server.base)
    size = os.path.getsize(source)
    part_size = part_size_for(size)
    plan = part_ranges(size, part_size)
    key = f"models/bench-direct-{time.monotonic_ns():x}.zip"

    async def prepare() -> tuple[str, list[str]]:
        upload_id = await storage.create_multipart("files", key, content_type="application/zip")
        urls = [
            await storage.presign_part("files", key, upload_id, n, expires_in=3600, max_bytes=part_size)
            for n, _, _ in plan
        ]
        return upload_id, urls

    upload_id, urls = asyncio.run(prepare())
    work = iter(list(zip(plan, urls, strict=True)))  # next() on a list iterator is atomic under the GIL
    etags: dict[int, str] = {}

    def uploader() -> None:
        client = Client(server.base)
        try:
            for (number, offset, length), url in work:
                etags[number] = client.send("PUT", url, source, offset, length).headers["etag"]
        finally:
            client.close()

    with ThreadPoolExecutor(concurrency) as pool:
        for done in [pool.submit(uploader) for _ in range(concurrency)]:
            done.result()
    parts = [CompletedPart(number, etags[number]) for number, _, _ in plan]
    info = asyncio.run(storage.complete_multipart("files", key, upload_id, parts))
    assert info.size == size
    return key


def copy_flow(source: Path, target: Path, *, sendfile: bool) -> None:
    if sendfile:
        shutil.copyfile(source, target)  # sendfile/copy_file_range on Linux
    else:
        with open(source, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3, help="runs per flow; the fastest counts")
    parser.add_argument("--part-concurrency", type=int, default=4, help="parts in flight in the multipart flow")
    args = parser.parse_args()
    size = args.size_mib * MIB

    import shared.storage.backends.local  # noqa: F401 - imported before timing starts

    with tempfile.TemporaryDirectory(prefix="tridmo-bench-") as tmp:
        work = Path(tmp)
        source = work / "source.zip"
        make_source(source, size)
        storage_dir = work / "storage"
        server = Server(storage_dir)
        objects = storage_dir / "files"

        def copy(sendfile: bool) -> Callable[[], Path]:
            def run() -> Path:
                copy_flow(source, work / "copy.zip", sendfile=sendfile)
                return work / "copy.zip"

            return run

        flows: list[tuple[str, Server | None, Callable[[], Path | None]]] = [
            ("plain copy (shutil.copyfile)", None, copy(True)),
            ("plain copy (read/write 1 MiB)", None, copy(False)),
            ("form upload → local storage", server, lambda: objects / form_flow(server, source)),
            (f"direct multipart, {args.part_concurrency} in flight", server,
             lambda: objects / multipart_flow(server, source, storage_dir, args.part_concurrency)),
            ("direct multipart, 1 in flight", server, lambda: objects / multipart_flow(server, source, storage_dir, 1)),
        ]
        try:
            results: dict[str, list[Run]] = {name: [] for name, _, _ in flows}
            for _ in range(args.runs):  # interleaved, so a burst of load elsewhere hits every flow alike
                for name, srv, run in flows:
                    results[name].append(measure(srv, run))
        finally:
            server.stop()
    rows = {name: best(runs) for name, runs in results.items()}
    copy_s = min(rows[name].seconds for name in rows if name.startswith("plain copy"))
    mb = size / 1e6
    print(f"file: {args.size_mib} MiB, best of {args.runs}; server RSS growth target < 64 MiB; speed ≥ 0.5× copy")
    print(
        f"{'flow':36} {'seconds':>8} {'MB/s':>8} {'× copy':>7} {'answered':>8} {'RSS growth':>11} {'srv CPU s':>9}"
        f" {'cli CPU s':>9}"
    )
    for name, row in rows.items():
        growth = f"{row.rss / MIB:8.1f} MiB" if row.rss is not None else ""
        server_cpu = f"{row.server_cpu:9.2f}" if row.server_cpu is not None else ""
        print(
            f"{name:36} {row.seconds:8.2f} {mb / row.seconds:8.0f} {copy_s / row.seconds:7.2f} {row.answered:8.2f}"
            f" {growth:>11} {server_cpu:>9} {row.client_cpu:9.2f}"
        )
    print(
        "seconds: until the bytes are on disk (the run ends with `sync`); × copy: against the faster copy;\n"
        "answered: until the copy returned or the last response arrived, before that `sync`"
    )


if __name__ == "__main__":
    main()
