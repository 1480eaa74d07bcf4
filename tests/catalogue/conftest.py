"""The catalogue world's fixtures (tests/support/catalogue_world.py)."""

from tests.support.catalogue_world import png, world  # noqa: F401
