"""The catalogue world the models tests run in (tests/support/catalogue_world.py)."""

from tests.support.catalogue_world import world  # noqa: F401
