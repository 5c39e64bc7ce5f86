"""Fixtures for the admin console's tests: orders bought, paid and on their way through
the real services, as the after-sales tests make them."""
from tests.aftersales.conftest import bought  # noqa: F401  (a fixture)
from tests.analytics.test_figures import shop_sales  # noqa: F401  (a fixture: the hand-made sales)
