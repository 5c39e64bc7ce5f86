"""经常一起买 from real orders: which orders are baskets (paid and kept; a checkout across
shops is one platform basket; unpaid, closed, refunded items and orders before the window
are not), the rules stored per scope with exact figures worked out by hand, thresholds
from the settings, recomputing twice giving the same rows, a shop's own recompute, and
the job through a real RQ worker with its guard against a second one."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.aftersales import platform
from app.analytics import tasks
from app.analytics.baskets import paid_baskets
from app.analytics.models import ProductRule, RuleRun
from app.analytics.recompute import PLATFORM
from app.analytics.tasks import recompute_rules
from app.core import settings
from app.core.clock import travel, utcnow
from app.core.db import transaction
from app.core.errors import ValidationError
from app.core.jobs import get_queue
from app.extensions import db
from app.orders.models import Order
from app.payments import services as payments
from app.payments.models import Payment

# Thresholds the fixture's numbers are worked out for (set through the settings store).
THRESHOLDS = {"rules_min_baskets": 5, "rules_min_support_bp": 2000, "rules_min_confidence_bp": 5000,
              "rules_min_lift_pct": 120, "rules_lookback_days": 180}


def set_settings(admin, **values) -> None:
    with transaction():
        for key, value in values.items():
            settings.put(key, value, admin)


@pytest.fixture
def together(make_user, make_merchant, make_product, make_address, place_order):
    """Shop A (a1 a2 a3) and shop B (b1), and these checkouts of one buyer:

        1, 2  A{a1,a2}          3  A{a1,a2,a3}        4, 5  A{a3}
        6, 7  A{a1} + B{b1}     (one checkout, two orders)
        8     A{a1,a3} unpaid                          9  A{a2,a3} paid, then all refunded (closed)
        10    A{a2,a3} paid, a2 refunded: basket {a3}   11 A{a2,a3} paid 200 days ago

    Shop A's baskets (8): {a1,a2} ×2, {a1,a2,a3}, {a3} ×3 (4, 5, 10), {a1} ×2 (6, 7).
    The platform's (8 checkouts): the same, but 6 and 7 are {a1,b1}. Shop B's: {b1} ×2."""
    admin = make_user(admin_role="super")
    shop_a, shop_b = make_merchant(name="甲店"), make_merchant(name="乙店")
    a1, a2, a3 = (make_product(merchant=shop_a, title=t, price_fen=p, stocks=(100,))
                  for t, p in (("甲一", 1000), ("甲二", 2000), ("甲三", 3000)))
    b1 = make_product(merchant=shop_b, title="乙一", price_fen=500, stocks=(100,))
    buyer = make_user()
    address = make_address(buyer)
    sku = {p.id: p.skus[0].id for p in (a1, a2, a3, b1)}

    def buy(*products, pay=True) -> list[Order]:
        payment = place_order(buyer, [(sku[p.id], 1) for p in products], address=address, key=uuid.uuid4().hex)
        payment_id = payment.id
        if pay:
            with transaction():
                payments.apply_success(db.session.get(Payment, payment_id), "sandbox", f"SBR{uuid.uuid4().hex[:16]}")
        return list(db.session.scalars(sa.select(Order).where(Order.payment_id == payment_id).order_by(Order.id)))

    buy(a1, a2)
    buy(a1, a2)
    buy(a1, a2, a3)
    buy(a3)
    buy(a3)
    buy(a1, b1)
    buy(a1, b1)
    buy(a1, a3, pay=False)
    [closed] = buy(a2, a3)
    [partly] = buy(a2, a3)
    with transaction():
        platform.cancel_and_refund(admin, closed.order_no, None, "缺货全部退款")
    with transaction():
        item = next(i for i in partly.items if i.product_id == a2.id)
        platform.cancel_and_refund(admin, partly.order_no, [(item.id, 1)], "缺货部分退款")
    with travel(timedelta(days=-200)):
        buy(a2, a3)
    set_settings(admin, **THRESHOLDS)
    db.session.expire_all()
    assert db.session.get(Order, closed.id).status == "closed"
    return {"admin": admin, "shop_a": shop_a, "shop_b": shop_b, "a1": a1, "a2": a2, "a3": a3, "b1": b1,
            "buyer": buyer}


def rules_of(scope_id: int) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(
        sa.select(ProductRule.antecedent_id, ProductRule.consequent_id, ProductRule.support_bp,
                  ProductRule.confidence_bp, ProductRule.lift_bp, ProductRule.both_baskets,
                  ProductRule.antecedent_baskets, ProductRule.consequent_baskets, ProductRule.baskets)
        .where(ProductRule.scope_id == scope_id)
        .order_by(ProductRule.lift_bp.desc(), ProductRule.confidence_bp.desc(), ProductRule.support_bp.desc(),
                  ProductRule.antecedent_id))]


def test_baskets_are_paid_kept_orders_and_whole_checkouts(together):
    a1, a2, a3, b1 = (together[k].id for k in ("a1", "a2", "a3", "b1"))
    found = paid_baskets(utcnow() - timedelta(days=180))
    shop_a = sorted(sorted(b) for b in found.shops[together["shop_a"].id])
    assert shop_a == sorted([[a1, a2], [a1, a2], [a1, a2, a3], [a3], [a3], [a3], [a1], [a1]])
    assert sorted(sorted(b) for b in found.shops[together["shop_b"].id]) == [[b1], [b1]]
    assert sorted(sorted(b) for b in found.platform) == sorted(
        [[a1, a2], [a1, a2], [a1, a2, a3], [a3], [a3], [a3], [a1, b1], [a1, b1]])
    # the order of 200 days ago counts once the window reaches it
    assert len(paid_baskets(utcnow() - timedelta(days=365)).shops[together["shop_a"].id]) == 9


def test_the_rules_of_each_scope_worked_out_by_hand(together):
    a1, a2, b1 = (together[k].id for k in ("a1", "a2", "b1"))
    assert recompute_rules() == 5
    # platform, 8 checkouts: a1 in 5, a2 in 3, b1 in 2; {a1,a2} in 3, {a1,b1} in 2.
    # a2 -> a1: support 3/8 = 37.5%, confidence 3/3, lift 3×8/(3×5) = 1.6
    # b1 -> a1: support 2/8 = 25%, confidence 2/2, lift 2×8/(2×5) = 1.6 (another shop's product)
    # a1 -> a2: confidence 3/5 = 60%, lift 1.6; a1 -> b1: confidence 2/5 = 40% < 50%, dropped
    assert rules_of(PLATFORM) == [
        (a2, a1, 3750, 10000, 16000, 3, 3, 5, 8),
        (b1, a1, 2500, 10000, 16000, 2, 2, 5, 8),
        (a1, a2, 3750, 6000, 16000, 3, 5, 3, 8),
    ]
    # shop A, 8 orders: a1 in 5 (1, 2, 3, 6, 7), a2 in 3, {a1,a2} in 3: the same figures;
    # {a1,a3} and {a2,a3} once each (12.5% < 20%)
    assert rules_of(together["shop_a"].id) == [
        (a2, a1, 3750, 10000, 16000, 3, 3, 5, 8),
        (a1, a2, 3750, 6000, 16000, 3, 5, 3, 8),
    ]
    assert rules_of(together["shop_b"].id) == []  # 2 orders, fewer than 5
    runs = {r.scope_id: (r.baskets, r.rules) for r in db.session.scalars(sa.select(RuleRun))}
    assert runs == {PLATFORM: (8, 3), together["shop_a"].id: (8, 2), together["shop_b"].id: (2, 0)}
    assert db.session.get(RuleRun, PLATFORM).thresholds == {
        "lookback_days": 180, "min_baskets": 5, "min_support_bp": 2000, "min_confidence_bp": 5000,
        "min_lift_pct": 120}


def test_recomputing_twice_gives_the_same_rows(together):
    recompute_rules()
    first = {scope: rules_of(scope) for scope in (PLATFORM, together["shop_a"].id)}
    ids = set(db.session.scalars(sa.select(ProductRule.id)))
    recompute_rules()
    assert {scope: rules_of(scope) for scope in (PLATFORM, together["shop_a"].id)} == first
    assert db.session.scalar(sa.select(sa.func.count(ProductRule.id))) == len(ids) == 5  # replaced, not added


def test_the_thresholds_in_the_settings_change_what_is_kept(together):
    a1, a2, b1 = (together[k].id for k in ("a1", "a2", "b1"))
    recompute_rules()
    set_settings(together["admin"], rules_min_confidence_bp=10000)
    recompute_rules()
    assert [r[:2] for r in rules_of(PLATFORM)] == [(a2, a1), (b1, a1)]
    set_settings(together["admin"], rules_min_confidence_bp=5000, rules_min_lift_pct=161)  # 1.61 > 1.6
    recompute_rules()
    assert rules_of(PLATFORM) == [] and rules_of(together["shop_a"].id) == []
    set_settings(together["admin"], rules_min_lift_pct=160, rules_min_support_bp=2501)  # 25% < 25.01%
    recompute_rules()
    assert [r[:2] for r in rules_of(PLATFORM)] == [(a2, a1), (a1, a2)]
    # more baskets than the scope has: nothing, and the old rules are gone
    set_settings(together["admin"], rules_min_baskets=9)
    recompute_rules()
    assert rules_of(PLATFORM) == [] and db.session.get(RuleRun, PLATFORM).rules == 0
    # a longer window reaches the order of 200 days ago, A{a2,a3}: 9 orders for shop A, a2 in 4,
    # a1 in 5: a2 -> a1 is 3/4 = 75% sure and 3×9/(4×5) = 1.35 times as likely
    set_settings(together["admin"], rules_lookback_days=365, rules_min_lift_pct=120)
    recompute_rules()
    assert rules_of(together["shop_a"].id) == [(a2, a1, 3333, 7500, 13500, 3, 4, 5, 9),
                                               (a1, a2, 3333, 6000, 13500, 3, 5, 4, 9)]


@pytest.mark.parametrize(("key", "value"), [
    ("rules_min_lift_pct", 99), ("rules_min_support_bp", 0), ("rules_min_confidence_bp", 10001),
    ("rules_min_baskets", 4), ("rules_lookback_days", 731), ("rules_min_support_bp", "1%")])
def test_thresholds_out_of_bounds_are_refused(make_user, key, value):
    admin = make_user(admin_role="super")
    with pytest.raises(ValidationError) as refused:
        settings.put(key, value, admin)
    assert key in refused.value.fields
    assert settings.get(key) == settings.DEFINITIONS[key].default


def test_a_shops_own_recompute_touches_only_that_shop(together):
    recompute_rules()
    platform_before = rules_of(PLATFORM)
    set_settings(together["admin"], rules_min_confidence_bp=10000)
    assert recompute_rules(together["shop_a"].id) == 1
    assert [r[:2] for r in rules_of(together["shop_a"].id)] == [(together["a2"].id, together["a1"].id)]
    assert rules_of(PLATFORM) == platform_before


def recompute_jobs() -> list[tuple]:
    return [job.args for job in get_queue("low").jobs if job.func_name == "app.analytics.tasks.recompute_rules"]


def test_the_job_through_a_real_worker_and_its_guard(together, run_jobs, redis_client):
    with transaction():
        assert tasks.request_recompute() is True
    assert tasks.is_busy() and tasks.is_busy(together["shop_a"].id)  # the whole run covers every shop
    with transaction():
        assert tasks.request_recompute() is False  # queued already: not sent twice
        assert tasks.request_recompute(together["shop_a"].id) is False
    assert recompute_jobs() == [(None,)]
    run_jobs()  # (with the jobs the fixture's orders and refunds sent)
    db.session.expire_all()
    assert len(rules_of(PLATFORM)) == 3 and len(rules_of(together["shop_a"].id)) == 2
    assert not tasks.is_busy() and redis_client.keys("analytics:rules:*") == []
    # a shop's own run guards that shop only
    with transaction():
        assert tasks.request_recompute(together["shop_a"].id) is True
    assert tasks.is_busy(together["shop_a"].id) and not tasks.is_busy(together["shop_b"].id)
    assert not tasks.is_busy()
    with transaction():
        assert tasks.request_recompute(together["shop_a"].id) is False
    assert recompute_jobs() == [(together["shop_a"].id,)]
    assert run_jobs() == 1 and not tasks.is_busy(together["shop_a"].id)


def test_the_nightly_run_is_registered():
    import importlib

    from rq import cron

    import app.cron_jobs

    cron._job_data_registry.clear()
    importlib.reload(app.cron_jobs)  # registers again, whoever imported it first
    # (left registered, as a first import leaves it: tests/test_app.py reads the registry too)
    registered = {d["func"].__name__: d for d in cron._job_data_registry}
    assert registered["recompute_rules"]["cron"] == "7 19 * * *"  # 03:07 in Shanghai
