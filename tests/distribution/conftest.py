"""Fixtures for distribution tests: rules saved through the real service, and a
distributor chain made the way users make it (bind by code, become active)."""
from __future__ import annotations

import pytest

from app.core.db import transaction
from app.distribution import rules as distribution_rules

RULES = {"enabled": True, "levels": 3, "level1_percent": "10", "level2_percent": "5", "level3_percent": "2",
         "qualification": "everyone", "spend_threshold": "0", "binding_mode": "permanent", "binding_days": "30",
         "bind_new_users_only": False, "self_purchase": False, "settlement_delay_days": "7",
         "withdrawal_min": "10", "withdrawal_max": "5000", "withdrawal_fee_percent": "0",
         "withdrawal_methods": ["wechat", "alipay", "bank"]}


@pytest.fixture
def set_rules(make_user):
    """`set_rules(**changes)` saves a new rules version (as a super admin) and returns it."""
    admin = make_user(admin_role="super")

    def save(**changes):
        with transaction():
            return distribution_rules.update(admin, {**RULES, **changes})

    return save




@pytest.fixture(autouse=True)
def _books_hold(books_hold):
    """Every test here ends with the books agreeing with what happened (docs/finance.md)."""
