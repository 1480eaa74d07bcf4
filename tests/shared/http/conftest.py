"""Fixtures of the shared HTTP layer's tests: local storage for the form tests, and the community
world so that comments (idempotency) have a model to target."""

from tests.support.community_world import world  # noqa: F401
from tests.support.storage_world import local_storage  # noqa: F401
