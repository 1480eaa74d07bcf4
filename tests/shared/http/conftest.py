"""The storage world's fixtures the form tests use (tests/support/storage_world.py)."""

from tests.support.storage_world import local_storage  # noqa: F401
