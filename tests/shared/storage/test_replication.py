"""Reliable mirroring: a queue row per object one side lacks, drained by `shared.storage.replication.replicate`.

Two moto servers on loopback play the primary and the replica endpoints (distinct bucket names, because
in-process moto servers share one object store); a replica that is "down" is an endpoint with nothing
listening. The big-object test runs both servers as separate processes, so this process's allocations
are only the copier's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

from shared.storage import put_bytes, read_bytes
from shared.storage.backends.s3 import S3Storage
from shared.storage.factory import set_storage
from shared.storage.replication.replica import ReplicatedStorage
from shared.storage.replication.replicate import drain, full
from tests.support.files import zip_bytes
from tests.support.ports import free_port
from tests.support.storage_world import REPLICA_BUCKETS, MotoS3, s3_endpoint, start_moto

MIB = 1024 * 1024
PRIMARY_BUCKETS = {"images": "q-images", "files": "q-files"}


@pytest.fixture(autouse=True)
def empty_queue(sql: Any) -> None:
    """Each test counts what its own drain did: rows left by an earlier test would be drained too."""
    sql("DELETE FROM replication_queue")


@pytest.fixture(scope="module")
def primary_server() -> Iterator[MotoS3]:
    server = start_moto(list(PRIMARY_BUCKETS.values()))
    yield server
    server.server.stop()


@pytest.fixture
def primary(primary_server: MotoS3) -> S3Storage:
    return S3Storage(s3_endpoint(primary_server.url, PRIMARY_BUCKETS))


@pytest.fixture
def replica(moto_s3: MotoS3) -> S3Storage:
    return S3Storage(s3_endpoint(moto_s3.url, REPLICA_BUCKETS, label="replica"))


def dead_replica() -> S3Storage:
    return S3Storage(s3_endpoint(f"http://127.0.0.1:{free_port()}", REPLICA_BUCKETS, label="replica"))


@pytest.fixture
def replicated(primary: S3Storage, replica: S3Storage, database: str) -> Iterator[ReplicatedStorage]:
    storage = ReplicatedStorage(primary, replica)
    set_storage(storage)
    yield storage
    set_storage(None)


def key(prefix: str = "models") -> str:
    return f"{prefix}/{uuid.uuid4().hex}.zip"


def queued(sql: Any, name: str) -> list[dict[str, Any]]:
    return sql("SELECT * FROM replication_queue WHERE object_key = %s", (name,))


async def enqueue(bucket: str, name: str) -> None:
    from shared.storage.replication.journal import enqueue as add

    await add(None, bucket, name)  # type: ignore[arg-type]


async def direct_upload(client: httpx.AsyncClient, user: Any, data: bytes) -> tuple[str, httpx.Response]:
    started = await client.post(
        "/api/uploads",
        json={"kind": "model_archive", "filename": "chair.zip", "size": len(data), "content_type": "application/zip"},
        headers=user.auth,
    )
    assert started.status_code == 201, started.text
    plan = started.json()["data"]
    async with httpx.AsyncClient() as http:
        assert (await http.put(plan["url"], content=data, headers=plan["headers"])).status_code == 200
    done = await client.post(f"/api/uploads/{plan['upload_id']}/complete", json={}, headers=user.auth)
    assert done.status_code == 200, done.text
    return plan["upload_id"], done


async def test_completed_direct_upload_is_queued_and_the_drain_copies_it(
    replicated: ReplicatedStorage, client: httpx.AsyncClient, make_user: Any, sql: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "uploads")  # as on Lambda: no copy after the response
    brand = await make_user("brand")
    data = zip_bytes(size=300_000)
    upload_id, _ = await direct_upload(client, brand, data)
    [row] = sql("SELECT object_key FROM uploads WHERE id = %s", (upload_id,))
    name = row["object_key"]

    [entry] = queued(sql, name)
    assert entry["bucket"] == "files" and entry["attempts"] == 0
    assert await read_bytes(replicated.primary, "files", name) == data
    assert [o async for o in replicated.replica.list("files", name)] == []  # only the primary has it

    report = await drain(replicated, backoff_s=0)
    assert report.copied == 1 and report.failed == 0 and report.bytes_copied == len(data)
    assert await read_bytes(replicated.replica, "files", name) == data
    assert queued(sql, name) == []
    again = await drain(replicated, backoff_s=0)
    assert again.claimed == 0


async def test_fast_path_after_the_response_copies_and_clears_the_row(
    replicated: ReplicatedStorage, client: httpx.AsyncClient, make_user: Any, sql: Any, monkeypatch: Any
) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    brand = await make_user("brand")
    data = zip_bytes(size=50_000)
    upload_id, _ = await direct_upload(client, brand, data)  # the ASGI transport waits for background tasks
    [row] = sql("SELECT object_key FROM uploads WHERE id = %s", (upload_id,))
    assert await read_bytes(replicated.replica, "files", row["object_key"]) == data
    assert queued(sql, row["object_key"]) == []


async def test_upload_completion_without_a_replica_queues_nothing(
    primary: S3Storage, client: httpx.AsyncClient, make_user: Any, sql: Any
) -> None:
    set_storage(primary)
    try:
        brand = await make_user("brand")
        upload_id, _ = await direct_upload(client, brand, zip_bytes(size=1000))
    finally:
        set_storage(None)
    [row] = sql("SELECT object_key FROM uploads WHERE id = %s", (upload_id,))
    assert queued(sql, row["object_key"]) == []
    report = await drain(primary)
    assert report.skipped == "no replica configured"


async def test_replica_down_keeps_the_entry_and_a_later_run_copies_it(
    primary: S3Storage, replica: S3Storage, database: str, sql: Any
) -> None:
    name = key()
    await put_bytes(primary, "files", name, b"PK\x03\x04 replica was down")
    await enqueue("files", name)

    down = ReplicatedStorage(primary, dead_replica(), journal=None)
    report = await drain(down, tries=2, backoff_s=0)
    assert report.claimed == 1 and report.failed == 1 and report.copied == 0
    [entry] = queued(sql, name)
    assert entry["attempts"] == 1 and "unreachable" in entry["last_error"]
    assert entry["next_attempt_at"] > entry["last_attempt_at"]  # backed off, not retried at once
    assert (await drain(down, backoff_s=0)).claimed == 0  # not due yet

    sql("UPDATE replication_queue SET next_attempt_at = now() WHERE object_key = %s", (name,))  # time passes
    report = await drain(ReplicatedStorage(primary, replica), backoff_s=0)
    assert report.copied == 1 and report.failed == 0
    assert await read_bytes(replica, "files", name) == b"PK\x03\x04 replica was down"
    assert queued(sql, name) == []


async def test_a_run_against_a_dead_replica_stops_early_and_hands_rows_back(
    primary: S3Storage, database: str, sql: Any
) -> None:
    prefix = f"trip{uuid.uuid4().hex[:8]}"
    names = [key(prefix) for _ in range(5)]
    for name in names:
        await put_bytes(primary, "files", name, b"x" * 10)
        await enqueue("files", name)
    report = await drain(ReplicatedStorage(primary, dead_replica(), journal=None), tries=1, trip_after=2,
                         concurrency=1, backoff_s=0)  # fmt: skip
    assert report.failed == 2 and report.released == 3 and "consecutive failures" in report.stopped
    rows = sql("SELECT attempts, next_attempt_at <= now() AS due FROM replication_queue WHERE object_key LIKE %s",
               (prefix + "/%",))  # fmt: skip
    assert sorted((r["attempts"], r["due"]) for r in rows) == [(0, True)] * 3 + [(1, False)] * 2


async def test_object_only_on_the_replica_is_copied_to_the_primary(
    primary: S3Storage, replica: S3Storage, database: str, sql: Any
) -> None:
    # a direct upload made while the primary was suspect was signed for the replica
    name = key()
    await put_bytes(replica, "files", name, b"uploaded during a primary outage")
    await enqueue("files", name)
    report = await drain(ReplicatedStorage(primary, replica), backoff_s=0)
    assert report.copied == 1
    assert await read_bytes(primary, "files", name) == b"uploaded during a primary outage"


async def test_already_mirrored_and_deleted_objects_just_leave_the_queue(
    primary: S3Storage, replica: S3Storage, database: str, sql: Any
) -> None:
    both, gone = key(), key()
    storage = ReplicatedStorage(primary, replica)
    await put_bytes(storage, "files", both, b"on both sides")
    await enqueue("files", both)
    await enqueue("files", gone)
    report = await drain(storage, backoff_s=0)
    assert (report.in_sync, report.gone, report.copied, report.failed) == (1, 1, 0, 0)
    assert queued(sql, both) == [] and queued(sql, gone) == []


async def test_mirrored_write_that_lost_the_replica_is_queued(
    primary: S3Storage, replica: S3Storage, database: str, sql: Any
) -> None:
    name = key()
    await put_bytes(ReplicatedStorage(primary, dead_replica()), "files", name, b"written, replica down")
    [entry] = queued(sql, name)
    assert "write missed replica" in entry["last_error"]
    report = await drain(ReplicatedStorage(primary, replica), backoff_s=0)
    assert report.copied == 1
    assert await read_bytes(replica, "files", name) == b"written, replica down"


async def test_full_mode_repairs_what_was_written_while_the_replica_was_down(
    primary: S3Storage, replica: S3Storage, database: str
) -> None:
    prefix = f"full{uuid.uuid4().hex[:8]}"
    missed, fine, grown = f"{prefix}/a.zip", f"{prefix}/b.zip", f"{prefix}/c.zip"
    healthy = ReplicatedStorage(primary, replica)
    await put_bytes(healthy, "files", fine, b"mirrored normally")
    await put_bytes(replica, "files", grown, b"short")
    await put_bytes(primary, "files", grown, b"the primary's longer copy")
    await put_bytes(replica, "files", f"{prefix}/z-replica-only.zip", b"only here")
    # the outage: no journal either (say the database was unreachable too)
    await put_bytes(ReplicatedStorage(primary, dead_replica(), journal=None), "files", missed, b"during the outage")
    assert [o async for o in replica.list("files", missed)] == []

    report = await full(healthy, buckets=("files",), prefix=prefix, backoff_s=0)
    assert (report.listed_primary, report.listed_replica) == (3, 3)
    assert (report.missing_on_replica, report.size_differs, report.replica_only) == (1, 1, 1)
    assert report.copied == 2 and report.failed == 0
    assert await read_bytes(replica, "files", missed) == b"during the outage"
    assert await read_bytes(replica, "files", grown) == b"the primary's longer copy"
    assert [o async for o in primary.list("files", f"{prefix}/z")] == []  # not copied back unless asked

    # the command line, as the scheduler runs it: its own process, configured from the environment
    env = {
        **os.environ, "DB_URL": database, "S3_ENDPOINT_URL": primary.endpoint.endpoint_url, "S3_ACCESS_ID": "test",
        "S3_SECRET_KEY": "test", "S3_REGION": "us-east-1", "S3_IMAGES_BUCKET": PRIMARY_BUCKETS["images"],
        "S3_FILES_BUCKET": PRIMARY_BUCKETS["files"], "S3_REPLICA_ENDPOINT_URL": replica.endpoint.endpoint_url,
        "S3_REPLICA_IMAGES_BUCKET": REPLICA_BUCKETS["images"], "S3_REPLICA_FILES_BUCKET": REPLICA_BUCKETS["files"],
    }  # fmt: skip
    command = [
        sys.executable, "-m", "shared.storage.replication.replicate", "--full", "--bucket", "files", "--prefix", prefix
    ]  # fmt: skip
    done = await anyio.run_process([*command, "--to-primary"], env=env, check=False)
    assert done.returncode == 0, done.stderr.decode()
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert (result["replica_only"], result["copied"], result["failed"]) == (1, 1, 0)
    assert await read_bytes(primary, "files", f"{prefix}/z-replica-only.zip") == b"only here"
    queue = await anyio.run_process(command[:3], env=env, check=False)  # the queue mode, nothing queued
    assert queue.returncode == 0 and json.loads(queue.stdout.decode().splitlines()[-1])["claimed"] == 0


# a big object, copied in parts --------------------------------------------------------------------
def moto_process() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=0.5)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("moto server did not start")


@pytest.fixture(scope="module")
def separate_servers() -> Iterator[tuple[str, str]]:
    procs = [moto_process(), moto_process()]
    try:
        for _proc, url in procs:
            client = MotoS3(url, None).client()
            for bucket in PRIMARY_BUCKETS.values():
                client.create_bucket(Bucket=bucket)
        yield procs[0][1], procs[1][1]
    finally:
        for proc, _url in procs:
            proc.kill()
            proc.wait()


async def test_big_object_is_streamed_in_equal_parts_with_bounded_memory(
    separate_servers: tuple[str, str], database: str, sql: Any
) -> None:
    primary_url, replica_url = separate_servers
    primary = S3Storage(s3_endpoint(primary_url, PRIMARY_BUCKETS))
    replica = S3Storage(s3_endpoint(replica_url, PRIMARY_BUCKETS, label="replica"))
    size = 40 * MIB  # parts of 8 MiB: 5 of them
    name = key()
    pattern = os.urandom(MIB)
    MotoS3(primary_url, None).client().put_object(Bucket="q-files", Key=name, Body=pattern * (size // MIB))
    await enqueue("files", name)

    storage = ReplicatedStorage(primary, replica)
    await primary.check(), await replica.check()  # build both boto3 clients first: not what is measured
    tracemalloc.start()
    try:
        report = await drain(storage, backoff_s=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.copied == 1 and report.bytes_copied == size
    # about three 8 MiB parts (the part being filled and its copies on the way out), whatever the size
    assert peak < 32 * MIB < size, f"peak {peak / MIB:.1f} MiB for a {size // MIB} MiB object"

    head = MotoS3(replica_url, None).client().head_object(Bucket="q-files", Key=name)
    assert head["ContentLength"] == size and head["ETag"].strip('"').endswith("-5")  # a 5-part upload
    parts = [MotoS3(replica_url, None).client().head_object(Bucket="q-files", Key=name, PartNumber=n)
             for n in (1, 5)]  # fmt: skip
    assert [p["ContentLength"] for p in parts] == [8 * MIB, 8 * MIB]
    stream = await replica.get("files", name)
    offset = 0
    async for chunk in stream:  # compare without holding the copy whole either (chunks are < 1 MiB)
        expected = (pattern * 2)[offset % MIB : offset % MIB + len(chunk)]
        assert chunk == expected, f"bytes differ near offset {offset}"
        offset += len(chunk)
    assert offset == size
