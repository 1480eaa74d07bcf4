"""The community world's fixtures (tests/support/community_world.py) the notifications tests use."""

from tests.support.community_world import make_interior, world  # noqa: F401
