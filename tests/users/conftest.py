"""The catalogue world the users tests run in (tests/support/catalogue_world.py); accounts and the
client come from tests/conftest.py."""

from tests.support.catalogue_world import world  # noqa: F401
