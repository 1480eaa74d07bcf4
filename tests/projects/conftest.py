"""The community world's fixtures (tests/support/community_world.py) the projects tests use."""

from tests.support.community_world import world  # noqa: F401
