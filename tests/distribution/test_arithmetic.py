"""The three-level commission arithmetic, table-driven, through real orders: a chain
top <- middle <- near made by binding, a buyer bound to `near`, an order placed
through checkout and paid through the sandbox notification; then the commission
rows are compared with the table. Plus unit rows for the one rounding rule
(app.core.money.apply_rate / prorate) and for the override validation."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa

from app.core.db import transaction
from app.core.money import apply_rate, prorate
from app.distribution import commissions, distributors, referrals
from app.distribution.models import Commission
from app.extensions import db
from app.orders.models import Order


@dataclass
class Case:
    items: list[tuple[int, int, dict]]  # (unit price fen, quantity, product fields)
    # per item: {level: (beneficiary name, rate_bp, amount_fen)}; levels absent earn nothing
    expected: list[dict[int, tuple[str, int, int]]]
    rules: dict = field(default_factory=dict)  # changes to the conftest RULES (percent strings)
    buyer: str = "customer"  # "customer" (bound to near) or "near" (a distributor buying)
    frozen: tuple[str, ...] = ()  # frozen before the order is placed
    rules_after_placing: dict | None = None  # a new rules version between placing and paying
    shipping_fen: int = 0


PLAIN = {}
CASES = [
    pytest.param(Case(items=[(10000, 1, PLAIN)],
                      expected=[{1: ("near", 1000, 1000), 2: ("middle", 500, 500), 3: ("top", 200, 200)}]),
                 id="three-levels-10-5-2"),
    pytest.param(Case(items=[(10000, 1, PLAIN)], rules={"levels": "1"},
                      expected=[{1: ("near", 1000, 1000)}]), id="one-level-only"),
    pytest.param(Case(items=[(10000, 1, PLAIN)], rules={"levels": "2"},
                      expected=[{1: ("near", 1000, 1000), 2: ("middle", 500, 500)}]), id="two-levels-only"),
    pytest.param(Case(items=[(10000, 1, PLAIN)],
                      rules={"level1_percent": "12.5", "level2_percent": "7.25", "level3_percent": "0.5"},
                      expected=[{1: ("near", 1250, 1250), 2: ("middle", 725, 725), 3: ("top", 50, 50)}]),
                 id="fractional-percent-rates"),
    pytest.param(Case(items=[(10000, 1, {"commission_l1_bp": 1500, "commission_l3_bp": 0})],
                      expected=[{1: ("near", 1500, 1500), 2: ("middle", 500, 500)}]),
                 id="product-override-and-zero-level"),
    pytest.param(Case(items=[(10000, 1, {"distribution_enabled": False})], expected=[{}]),
                 id="product-excluded"),
    pytest.param(Case(items=[(10000, 1, {"commission_l1_bp": 2500})],
                      rules={"level1_percent": "10", "level2_percent": "15", "level3_percent": "5"},
                      expected=[{1: ("near", 2500, 2500), 2: ("middle", 500, 500)}]),
                 id="override-capped-at-the-platform-sum"),
    pytest.param(Case(items=[(3333, 1, PLAIN)],
                      expected=[{1: ("near", 1000, 333), 2: ("middle", 500, 167), 3: ("top", 200, 67)}]),
                 id="round-333.3-down-166.65-up-66.66-up"),
    pytest.param(Case(items=[(3335, 1, PLAIN)],
                      expected=[{1: ("near", 1000, 334), 2: ("middle", 500, 167), 3: ("top", 200, 67)}]),
                 id="round-half-up-333.5-and-166.75"),
    pytest.param(Case(items=[(1, 1, PLAIN)], expected=[{}]), id="one-fen-earns-nothing"),
    pytest.param(Case(items=[(5, 1, PLAIN)], expected=[{1: ("near", 1000, 1)}]), id="half-a-fen-rounds-up"),
    pytest.param(Case(items=[(10000, 2, PLAIN), (2999, 3, {"commission_l1_bp": 2000}),
                             (500, 1, {"distribution_enabled": False})],
                      expected=[{1: ("near", 1000, 2000), 2: ("middle", 500, 1000), 3: ("top", 200, 400)},
                                {1: ("near", 2000, 1799), 2: ("middle", 500, 450), 3: ("top", 200, 180)},
                                {}]),
                 id="multi-item-order-per-item"),
    pytest.param(Case(items=[(10000, 1, PLAIN)], shipping_fen=1200,
                      expected=[{1: ("near", 1000, 1000), 2: ("middle", 500, 500), 3: ("top", 200, 200)}]),
                 id="shipping-excluded-from-the-base"),
    pytest.param(Case(items=[(10000, 1, PLAIN)], buyer="near", rules={"self_purchase": True},
                      expected=[{1: ("near", 1000, 1000), 2: ("middle", 500, 500), 3: ("top", 200, 200)}]),
                 id="self-purchase-on"),
    pytest.param(Case(items=[(10000, 1, PLAIN)], buyer="near", rules={"self_purchase": False},
                      expected=[{1: ("middle", 1000, 1000), 2: ("top", 500, 500)}]),
                 id="self-purchase-off-goes-to-the-binding"),
    pytest.param(Case(items=[(10000, 1, PLAIN)], frozen=("middle",),
                      expected=[{1: ("near", 1000, 1000), 3: ("top", 200, 200)}]),
                 id="frozen-middle-skipped-not-passed-up"),
    pytest.param(Case(items=[(10000, 1, PLAIN)], frozen=("near",),
                      expected=[{2: ("middle", 500, 500), 3: ("top", 200, 200)}]),
                 id="frozen-first-level-skipped"),
    pytest.param(Case(items=[(10000, 1, PLAIN)],
                      rules_after_placing={"level1_percent": "20", "level2_percent": "8", "level3_percent": "1"},
                      expected=[{1: ("near", 1000, 1000), 2: ("middle", 500, 500), 3: ("top", 200, 200)}]),
                 id="rules-changed-after-placing-keep-the-old-rates"),
]


@pytest.mark.parametrize("case", CASES)
def test_commission_arithmetic(case: Case, set_rules, make_distributor, make_user, make_merchant, make_product,
                               place_order, pay_sandbox):
    first_rules = set_rules(**case.rules)
    people = {"top": make_distributor()}
    people["middle"] = make_distributor(parent=people["top"])
    people["near"] = make_distributor(parent=people["middle"])
    if case.buyer == "near":
        buyer = people["near"].user
    else:
        buyer = make_user()
        with transaction():
            referrals.bind(buyer, people["near"].code, "link", is_new_user=True)
    admin = make_user(admin_role="super")
    for name in case.frozen:
        with transaction():
            distributors.freeze(admin, people[name].id, "测试冻结")
    merchant = make_merchant(shipping_flat_fen=case.shipping_fen)
    lines = []
    for price, quantity, fields in case.items:
        product = make_product(merchant=merchant, price_fen=price, stocks=(10,), **fields)
        lines.append((product.skus[0].id, quantity))
    payment = place_order(buyer, lines)
    if case.rules_after_placing is not None:
        set_rules(**{**case.rules, **case.rules_after_placing})
    assert pay_sandbox(payment).status_code == 200
    db.session.expire_all()
    order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))
    assert order.status == "paid" and order.shipping_fen == case.shipping_fen

    names = {d.id: name for name, d in people.items()}
    items = sorted(order.items, key=lambda i: i.sku_id)
    made = []
    for item in items:
        rows = db.session.scalars(sa.select(Commission).where(Commission.order_item_id == item.id)).all()
        assert all(c.base_fen == item.paid_fen and c.status == "pending" for c in rows)
        assert all(c.rules_version == first_rules.id for c in rows)
        made.append({c.level: (names[c.distributor_id], c.rate_bp, c.amount_fen) for c in rows})
    assert made == case.expected


@pytest.mark.parametrize("amount, rate_bp, expected", [
    (3333, 1000, 333), (3335, 500, 167), (3335, 1000, 334), (10000, 0, 0), (10000, 10000, 10000),
    (1, 4999, 0), (1, 5000, 1), (0, 1000, 0), (123456789, 1, 12346),
], ids=["333.3-down", "166.75-up", "333.5-up", "zero-rate", "full-rate", "0.4999-down", "0.5-up", "zero-base",
        "big-base"])
def test_apply_rate_rounds_half_up(amount, rate_bp, expected):
    assert apply_rate(amount, rate_bp) == expected


@pytest.mark.parametrize("amount, part, whole, expected", [
    (1000, 1, 3, 333), (1000, 2, 3, 667), (1001, 1, 2, 501), (999, 3, 3, 999), (0, 1, 2, 0), (5, 1, 10, 1),
], ids=["third-down", "two-thirds-up", "half-up", "whole", "zero", "half-a-fen-up"])
def test_prorate_rounds_half_up(amount, part, whole, expected):
    assert prorate(amount, part, whole) == expected


def test_prorate_refuses_an_empty_whole():
    with pytest.raises(ValueError):
        prorate(100, 1, 0)


@pytest.mark.parametrize("levels, errors", [
    ({1: None, 2: None, 3: None}, set()),
    ({1: 2000, 2: 500, 3: None}, set()),  # 20 + 5 + platform 2 = 27%
    ({1: 2300, 2: 500, 3: None}, set()),  # exactly 30%
    ({1: 2400, 2: 500, 3: None}, {"commission_l1"}),  # 31%
    ({1: 10001, 2: None, 3: None}, {"commission_l1"}),
    ({1: None, 2: -1, 3: None}, {"commission_l2"}),
], ids=["platform-rates", "within-cap", "at-cap", "over-cap", "over-100", "negative"])
def test_check_overrides(levels, errors, set_rules):
    set_rules()  # 10 / 5 / 2, cap 30% (DISTRIBUTION_MAX_TOTAL_BP)
    assert set(commissions.check_overrides(levels)) == errors
