"""Fixtures for the shared HTTP layer's tests: the community world gives comments a model to target."""

from tests.support.community_world import world  # noqa: F401
