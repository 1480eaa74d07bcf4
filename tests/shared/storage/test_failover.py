"""A replica keeps reads and signed URLs working when the primary is down; without one we say so."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from shared.storage import StorageUnavailable, put_bytes, read_bytes
from shared.storage.backends.s3 import S3Storage
from shared.storage.replication.replica import ReplicatedStorage
from tests.support.ports import free_port
from tests.support.storage_world import REPLICA_BUCKETS, MotoS3, s3_endpoint, start_moto


def dead_primary() -> S3Storage:
    return S3Storage(s3_endpoint(f"http://127.0.0.1:{free_port()}", connect_timeout_s=0.3))


def replica_of(moto: MotoS3) -> S3Storage:
    return S3Storage(s3_endpoint(moto.url, REPLICA_BUCKETS, label="replica"))


def key() -> str:
    return f"failover/{uuid.uuid4().hex}.zip"


async def test_writes_are_mirrored_to_the_replica(moto_s3: MotoS3, s3_storage: S3Storage) -> None:
    storage = ReplicatedStorage(s3_storage, replica_of(moto_s3))
    name = key()
    await put_bytes(storage, "files", name, b"PK\x03\x04 mirrored")
    assert await read_bytes(storage.primary, "files", name) == b"PK\x03\x04 mirrored"
    assert await read_bytes(storage.replica, "files", name) == b"PK\x03\x04 mirrored"
    await storage.delete("files", name)
    assert [o async for o in storage.replica.list("files", name)] == []


async def test_reads_and_signed_urls_fall_over_when_the_primary_stops(moto_s3: MotoS3) -> None:
    primary_server = start_moto(["p-images", "p-files"])
    primary = S3Storage(s3_endpoint(primary_server.url, {"images": "p-images", "files": "p-files"}))
    storage = ReplicatedStorage(primary, replica_of(moto_s3))
    name = key()
    await put_bytes(storage, "files", name, b"PK\x03\x04 both sides")
    primary_server.server.stop()

    started = time.perf_counter()
    assert await read_bytes(storage, "files", name) == b"PK\x03\x04 both sides"
    assert (await storage.head("files", name)).size == 15
    url = await storage.presign_get("files", name, expires_in=60, filename="chair.zip")
    assert url.startswith(moto_s3.url)
    async with httpx.AsyncClient() as http:
        assert (await http.get(url)).content == b"PK\x03\x04 both sides"
    assert time.perf_counter() - started < 5
    status = await storage.check()
    assert not status["primary"].ok and status["replica"].ok


async def test_dead_primary_is_skipped_after_the_first_failure(moto_s3: MotoS3) -> None:
    storage = ReplicatedStorage(dead_primary(), replica_of(moto_s3))
    name = key()
    await put_bytes(storage.replica, "files", name, b"only on the replica")
    assert await read_bytes(storage, "files", name) == b"only on the replica"
    assert storage.primary_suspect
    # while the primary is suspect, new writes and multipart uploads go to the replica
    other = key()
    await put_bytes(storage, "files", other, b"written while primary down")
    assert await read_bytes(storage.replica, "files", other) == b"written while primary down"
    upload_id = await storage.create_multipart("files", key())
    assert upload_id.startswith("r:")


async def test_storage_down_without_replica_is_unavailable() -> None:
    storage = dead_primary()
    with pytest.raises(StorageUnavailable):
        await storage.head("files", key())
    with pytest.raises(StorageUnavailable):
        await put_bytes(storage, "files", key(), b"x")
    status = await storage.check()
    assert not status["primary"].ok and "unreachable" in status["primary"].detail


async def test_both_down_is_unavailable() -> None:
    storage = ReplicatedStorage(dead_primary(), dead_primary())
    with pytest.raises(StorageUnavailable):
        await read_bytes(storage, "files", key())
    with pytest.raises(StorageUnavailable):
        await put_bytes(storage, "files", key(), b"x")
