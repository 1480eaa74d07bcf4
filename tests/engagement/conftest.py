"""The community world's fixtures (tests/support/community_world.py) the engagement tests use."""

from tests.support.community_world import make_brand_user, make_interior, world  # noqa: F401
