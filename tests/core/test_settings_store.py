"""The settings store reads every stored setting once per database transaction
(app/core/settings.py): a checkout asks for three, mostly unset, in one SELECT."""
from __future__ import annotations

import sqlalchemy as sa

from app.core import settings as platform_settings
from app.core.db import transaction
from app.core.models import PlatformSetting
from app.extensions import db


def test_several_reads_in_one_transaction_run_one_select(app, count_queries):
    db.session.commit()  # start a fresh transaction
    with count_queries() as statements:
        values = [platform_settings.get(key) for key in
                  ("stock_deduction", "order_payment_timeout_minutes", "platform_fee_bp")]
    assert values == ["on_order", platform_settings.DEFINITIONS["order_payment_timeout_minutes"].default,
                      platform_settings.DEFINITIONS["platform_fee_bp"].default]
    assert len([s for s in statements if "platform_settings" in s]) == 1


def test_a_write_is_read_back_at_once_in_the_same_transaction(app, make_user):
    admin = make_user(admin_role="super_admin")
    assert platform_settings.get("platform_fee_bp") == platform_settings.DEFINITIONS["platform_fee_bp"].default
    platform_settings.put("platform_fee_bp", "700", admin)
    assert platform_settings.get("platform_fee_bp") == 700
    assert platform_settings.all_values()["platform_fee_bp"] == 700


def test_a_value_written_elsewhere_is_read_in_the_next_transaction(app):
    with transaction():
        assert platform_settings.get("marketing_cap_count") == 1
    # Another writer (a hand-made row, as another process's commit would look): the copy
    # read in the finished transaction is not used again.
    db.session.execute(sa.insert(PlatformSetting).values(key="marketing_cap_count", value=3))
    db.session.commit()
    assert platform_settings.get("marketing_cap_count") == 3


def test_a_savepoint_rolled_back_does_not_leave_its_value_behind(app, make_user):
    admin = make_user(admin_role="super_admin")
    nested = db.session.begin_nested()
    platform_settings.put("marketing_cap_days", "30", admin)
    assert platform_settings.get("marketing_cap_days") == 30
    nested.rollback()
    assert platform_settings.get("marketing_cap_days") == 7
