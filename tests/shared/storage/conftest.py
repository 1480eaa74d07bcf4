"""The storage world's fixtures (tests/support/storage_world.py)."""

from tests.support.storage_world import backend, local_storage, moto_s3, s3_storage  # noqa: F401
