"""Fixtures for the analytics tests: customers with planted histories (segments)."""
from tests.analytics.segment_fixtures import planted  # noqa: F401  (a fixture)
