"""The community world's fixtures (tests/support/community_world.py) the statistics tests use."""

from tests.support.community_world import brand_user, make_brand_user, make_interior, world  # noqa: F401
