"""Fixtures for the merchant console's tests: the hand-made sales of the analytics tests."""
from tests.analytics.test_figures import shop_sales  # noqa: F401  (a fixture)
