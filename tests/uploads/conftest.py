"""The storage world's fixtures (tests/support/storage_world.py): each backend, and moto's S3 server."""

from tests.support.storage_world import backend, moto_s3  # noqa: F401
