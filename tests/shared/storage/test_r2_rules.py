"""R2-only rules that moto does not enforce: client configuration, endpoint, part sizes."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.config import Settings
from shared.storage import InvalidMultipart
from shared.storage.backends.local import LocalStorage
from shared.storage.backends.s3 import S3Storage
from shared.storage.backends.s3.client import client_config
from shared.storage.factory import build_storage
from shared.storage.parts import MAX_PARTS, MIB, check_part_sizes, part_count, part_ranges, part_size_for
from shared.storage.replication.replica import ReplicatedStorage

R2_ENV = {"S3_ACCOUNT_ID": "abc123", "S3_ACCESS_ID": "id", "S3_SECRET_KEY": "secret"}


def test_client_config_avoids_the_checksums_r2_rejects() -> None:
    storage = build_storage(Settings.from_env(R2_ENV))
    assert isinstance(storage, S3Storage)
    config = client_config(storage.endpoint)
    assert config.request_checksum_calculation == "when_required"
    assert config.response_checksum_validation == "when_required"
    assert config.signature_version == "s3v4"
    assert config.region_name == "auto"
    assert config.s3 == {"addressing_style": "path"}


async def test_presigned_urls_point_at_the_account_endpoint() -> None:
    storage = build_storage(Settings.from_env(R2_ENV))
    url = await storage.presign_get("files", "models/x.zip", expires_in=300, filename="x.zip")
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.netloc == "abc123.r2.cloudflarestorage.com"
    assert parts.path == "/tridmo-files/models/x.zip"
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in parts.query and "X-Amz-Expires=300" in parts.query


def test_adapter_is_chosen_from_settings(tmp_path: Path) -> None:
    assert isinstance(build_storage(Settings.from_env({"STORAGE_DIR": str(tmp_path)})), LocalStorage)
    replicated = build_storage(Settings.from_env({**R2_ENV, "S3_REPLICA_ENDPOINT_URL": "http://127.0.0.1:1"}))
    assert isinstance(replicated, ReplicatedStorage)
    assert replicated.replica.endpoint.buckets == {"images": "tridmo-images", "files": "tridmo-files"}


def test_building_the_s3_backend_does_not_import_boto3_yet() -> None:
    code = (
        "import sys; from shared.config import Settings; from shared.storage.factory import build_storage;"
        "build_storage(Settings.from_env({'S3_ACCOUNT_ID': 'a'}));"
        "print('boto3' in sys.modules, 'PIL' in sys.modules)"
    )
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, 8 * MIB),
        (1, 8 * MIB),
        (2 * 1024**3, 8 * MIB),
        (MAX_PARTS * 8 * MIB, 8 * MIB),
        (MAX_PARTS * 8 * MIB + 1, 8 * MIB + 1),
        (100 * 1024**3, 10737419),
    ],
)
def test_part_size_is_the_smallest_that_fits(size: int, expected: int) -> None:
    assert part_size_for(size) == expected


@given(st.integers(min_value=0, max_value=5 * 1024**4))
def test_part_plan_is_equal_parts_within_limits(total: int) -> None:
    size = part_size_for(total)
    ranges = part_ranges(total, size) if part_count(total, size) < 50 else None
    assert size >= 8 * MIB and part_count(total, size) <= MAX_PARTS
    assert size == 8 * MIB or part_count(total, size - 1) > MAX_PARTS  # smallest that fits
    if ranges:
        assert sum(length for _, _, length in ranges) == total
        assert all(length == size for _, _, length in ranges[:-1])


def test_unequal_or_small_parts_are_refused() -> None:
    check_part_sizes([8 * MIB, 8 * MIB, 3])
    check_part_sizes([12])
    for sizes in ([8 * MIB, 7 * MIB, 3], [4 * MIB, 4 * MIB], [8 * MIB, 9 * MIB], []):
        with pytest.raises(InvalidMultipart):
            check_part_sizes(sizes)
