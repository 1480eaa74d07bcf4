"""The storage world: a moto S3 server on loopback (standing in for R2, over real HTTP), a local
storage directory per test, and `backend`, one contract suite parametrised over both.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from shared.storage.backends.local import LocalStorage
from shared.storage.backends.s3 import S3Storage
from shared.storage.backends.s3.client import S3Endpoint
from shared.storage.base import Storage
from shared.storage.factory import set_storage
from tests.support.ports import free_port  # noqa: F401 - storage tests take it from here

SECRET = "test-signing-secret"
API_BASE = "http://testserver"
BUCKETS = {"images": "t-images", "files": "t-files"}
REPLICA_BUCKETS = {"images": "r-images", "files": "r-files"}



@dataclass
class MotoS3:
    url: str
    server: Any

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.url, aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        )


def start_moto(buckets: list[str]) -> MotoS3:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    moto = MotoS3(f"http://{host}:{port}", server)
    client = moto.client()
    for bucket in buckets:
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
            client.create_bucket(Bucket=bucket)
    return moto


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = start_moto([*BUCKETS.values(), *REPLICA_BUCKETS.values()])
    yield moto
    moto.server.stop()


def s3_endpoint(url: str, buckets: dict[str, str] | None = None, label: str = "primary", **kw: Any) -> S3Endpoint:
    options = {"connect_timeout_s": 0.5, "read_timeout_s": 5.0, "max_attempts": 1, **kw}
    return S3Endpoint(url, "test", "test", dict(buckets or BUCKETS), label=label, **options)


@pytest.fixture
def local_storage(tmp_path: Path) -> Iterator[LocalStorage]:
    storage = LocalStorage(tmp_path / "storage", secret=SECRET, api_base=API_BASE)
    set_storage(storage)
    yield storage
    set_storage(None)


@pytest.fixture
def s3_storage(moto_s3: MotoS3) -> S3Storage:
    return S3Storage(s3_endpoint(moto_s3.url))


@dataclass
class Backend:
    """A backend under test plus an HTTP client that can follow the URLs it signs."""

    kind: str
    storage: Storage
    http: httpx.AsyncClient
    prefix: str  # unique per test, so the shared moto buckets never leak state between tests

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"


@pytest_asyncio.fixture(params=["local", "s3"], loop_scope="session")
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    prefix = f"t{uuid.uuid4().hex[:12]}"
    if request.param == "local":
        storage: Storage = LocalStorage(tmp_path / "storage", secret=SECRET, api_base=API_BASE)
        set_storage(storage)
        from functions.files import app

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=API_BASE) as http:
            yield Backend("local", storage, http, prefix)
        set_storage(None)
    else:
        moto = request.getfixturevalue("moto_s3")
        async with httpx.AsyncClient() as http:
            yield Backend("s3", S3Storage(s3_endpoint(moto.url)), http, prefix)


async def chunks_of(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]
