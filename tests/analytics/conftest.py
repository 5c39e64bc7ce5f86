"""Fixtures for the analytics tests: the hand-made sales of test_figures, distribution
rules saved through the real service (for commissions), and customers with planted
histories (segments)."""
from tests.analytics.segment_fixtures import planted  # noqa: F401  (a fixture)
from tests.analytics.test_figures import shop_sales  # noqa: F401  (a fixture)
from tests.distribution.conftest import set_rules  # noqa: F401  (a fixture)
