"""Deletion wins over replication: a deleted object must not come back from, or live on in, the replica.

Primary and replica are buckets of the session's moto server (fresh names per test, so the sweep sees
only this test's objects); a side that is "down" is an endpoint with nothing listening.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import anyio
import pytest

from shared.storage import put_bytes, read_bytes
from shared.storage.backends.s3 import S3Storage
from shared.storage.errors import ObjectNotFound
from shared.storage.replication.journal import enqueue
from shared.storage.replication.replica import ReplicatedStorage, head_or_none
from shared.storage.replication.replicate import drain
from shared.storage.sweep import sweep
from tests.support.ports import free_port
from tests.support.storage_world import MotoS3, s3_endpoint

MIB = 1024 * 1024


class Sides:
    def __init__(self, moto: MotoS3) -> None:
        tag = uuid.uuid4().hex[:10]
        sides = ("primary", "replica")
        self.buckets = {side: {b: f"{tag}-{side[0]}-{b}" for b in ("images", "files")} for side in sides}
        client = moto.client()
        for names in self.buckets.values():
            for name in names.values():
                client.create_bucket(Bucket=name)
        self.client = client
        self.primary = S3Storage(s3_endpoint(moto.url, self.buckets["primary"]))
        self.replica = S3Storage(s3_endpoint(moto.url, self.buckets["replica"], label="replica"))

    def dead(self, side: str) -> S3Storage:
        url = f"http://127.0.0.1:{free_port()}"
        return S3Storage(s3_endpoint(url, self.buckets[side], label=side, connect_timeout_s=0.3))

    def healthy(self) -> ReplicatedStorage:
        return ReplicatedStorage(self.primary, self.replica)


@pytest.fixture
def sides(moto_s3: MotoS3, database: str, sql: Any) -> Sides:
    sql("DELETE FROM replication_queue")  # each test drains only its own rows
    return Sides(moto_s3)


def key(prefix: str = "models", ext: str = "zip") -> str:
    return f"{prefix}/{uuid.uuid4().hex}.{ext}"


async def holds(storage: S3Storage, bucket: str, name: str) -> bool:
    return await head_or_none(storage, bucket, name) is not None  # type: ignore[arg-type]


def queued(sql: Any, name: str) -> list[dict[str, Any]]:
    return sql("SELECT * FROM replication_queue WHERE object_key = %s", (name,))


@pytest.mark.parametrize("down", ["replica", "primary"])
async def test_a_delete_that_missed_a_side_wins_over_a_pending_copy(sides: Sides, sql: Any, down: str) -> None:
    name = key()
    await put_bytes(sides.healthy(), "files", name, b"PK\x03\x04 on both sides")
    await enqueue(None, "files", name)  # a copy note still pending (say the upload's row, not drained yet)

    one_side = ReplicatedStorage(
        sides.dead("primary") if down == "primary" else sides.primary,
        sides.dead("replica") if down == "replica" else sides.replica,
    )
    await one_side.delete("files", name)  # the row was deleted; the object goes after commit
    leftover = sides.replica if down == "replica" else sides.primary
    assert await holds(leftover, "files", name)  # the side that was down still has it
    await enqueue(None, "files", name, "a late copy note")  # must not turn the delete back into a copy

    report = await drain(sides.healthy(), backoff_s=0)
    assert not await holds(sides.primary, "files", name), "a deleted object is on the primary after the drain"
    assert not await holds(sides.replica, "files", name), "a deleted object is on the replica after the drain"
    assert (report.deleted, report.copied, report.failed) == (1, 0, 0)
    assert queued(sql, name) == []


async def test_a_queued_delete_waits_while_the_side_is_still_down(sides: Sides, sql: Any) -> None:
    name = key()
    await put_bytes(sides.healthy(), "files", name, b"PK\x03\x04 on both sides")
    await ReplicatedStorage(sides.primary, sides.dead("replica")).delete("files", name)
    [entry] = queued(sql, name)  # the delete that missed the replica is queued, as a delete
    assert entry.get("op") == "delete" and "delete missed replica" in entry["last_error"]

    report = await drain(ReplicatedStorage(sides.primary, sides.dead("replica"), journal=None), tries=1, backoff_s=0)
    assert (report.failed, report.deleted) == (1, 0)
    [entry] = queued(sql, name)
    assert entry["op"] == "delete" and entry["attempts"] == 1  # backed off, not re-queued as due at once
    assert (await drain(sides.healthy(), backoff_s=0)).claimed == 0
    sql("UPDATE replication_queue SET next_attempt_at = now() WHERE object_key = %s", (name,))  # time passes
    assert (await drain(sides.healthy(), backoff_s=0)).deleted == 1
    assert not await holds(sides.replica, "files", name)


async def test_a_copy_racing_a_delete_is_undone_by_the_drain(sides: Sides, sql: Any) -> None:
    """The drain is copying (a multipart upload on the replica is under way) when the object is deleted:
    the delete finds nothing on the replica yet, and the copy lands afterwards."""
    name = key()
    size = 32 * MIB  # four 8 MiB parts: the copy runs long enough to delete the object in the middle
    body = os.urandom(MIB) * (size // MIB)
    await anyio.to_thread.run_sync(
        lambda: sides.client.put_object(Bucket=sides.buckets["primary"]["files"], Key=name, Body=body)
    )
    await enqueue(None, "files", name)  # as a completed direct upload does
    storage = sides.healthy()
    replica_bucket = sides.buckets["replica"]["files"]

    def copy_under_way() -> bool:
        return bool(sides.client.list_multipart_uploads(Bucket=replica_bucket, Prefix=name).get("Uploads"))

    reports = []

    async def run_drain() -> None:
        reports.append(await drain(storage, tries=1, backoff_s=0))

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            group.start_soon(run_drain)
            for _ in range(5000):  # poll for the replica's multipart upload (created with the first part)
                if await anyio.to_thread.run_sync(copy_under_way):
                    break
                await anyio.sleep(0.01)
            await storage.delete("files", name)
            assert not await holds(sides.primary, "files", name)
    assert not await holds(sides.replica, "files", name), "the copy re-created a deleted object on the replica"
    assert not await holds(sides.primary, "files", name)
    assert (reports[0].deleted, reports[0].copied, reports[0].failed) == (1, 0, 0)
    assert queued(sql, name) == []


async def test_sweep_removes_orphans_on_the_replica_and_keeps_referenced_ones(
    sides: Sides, make_user: Any, sql: Any
) -> None:
    storage = sides.healthy()
    user = await make_user("designer")
    kept = key("avatars", "webp").replace(".webp", "/main.webp")  # written while the primary was down
    thumb = kept.replace("/main.webp", "/thumb.webp")  # its derivative, referenced through the folder
    lost = key("avatars", "webp").replace(".webp", "/main.webp")  # deleted; the replica missed the delete
    both = key("avatars", "webp").replace(".webp", "/main.webp")  # an orphan on both sides
    archive = key()  # a files-bucket orphan only the replica has
    for name in (kept, thumb, lost):
        await put_bytes(sides.replica, "images", name, b"RIFF....WEBP")
    await put_bytes(storage, "images", both, b"RIFF....WEBP")
    await put_bytes(sides.replica, "files", archive, b"PK\x03\x04")
    sql("UPDATE profiles SET image_src = %s WHERE id = %s", (kept, user["id"]))

    young = await sweep(storage, grace_s=3600, dry_run=True)
    report = await sweep(storage, grace_s=0)
    for bucket, name in (("images", lost), ("images", both), ("files", archive)):
        assert not await holds(sides.replica, bucket, name), f"orphan {name} survived on the replica"
        assert not await holds(sides.primary, bucket, name)
    assert await read_bytes(sides.replica, "images", kept) == b"RIFF....WEBP"
    assert await holds(sides.replica, "images", thumb)
    assert report.orphans == {"images": 2, "files": 1} and report.replica_only == 2
    assert young.kept_young == 3 and young.orphans == {"images": 0, "files": 0}  # the dry run, earlier
    with pytest.raises(ObjectNotFound):
        await storage.head("images", lost)
