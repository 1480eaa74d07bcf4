"""The storage world's fixtures (tests/support/storage_world.py): each backend, and the local one alone."""

from tests.support.storage_world import backend, local_storage, moto_s3  # noqa: F401
