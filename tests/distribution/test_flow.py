"""The distribution core end to end through the services: chain, commissions on
payment, settlement after receipt with the clock moved, withdrawal."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.clock import travel
from app.core.db import transaction
from app.core.errors import Conflict
from app.distribution import commissions, referrals, withdrawals
from app.distribution import queries as distribution_queries
from app.distribution.models import Commission
from app.extensions import db
from app.orders import services as order_services
from app.orders.models import Order


def paid_order(buyer, product, place_order, pay_sandbox, quantity=1):
    payment = place_order(buyer, [(product.skus[0].id, quantity)])
    assert pay_sandbox(payment).status_code == 200
    db.session.expire_all()
    return db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))


def test_three_levels_earn_on_payment_settle_after_receipt_and_withdraw(
        set_rules, make_distributor, make_user, make_product, place_order, pay_sandbox, run_jobs):
    set_rules()
    top = make_distributor()
    middle = make_distributor(parent=top)
    near = make_distributor(parent=middle)
    assert (near.parent_id, middle.parent_id) == (middle.id, top.id)
    buyer = make_user()
    with transaction():
        referrals.bind(buyer, near.code, "qr", is_new_user=True)
    product = make_product(stocks=(5,), price_fen=10000)
    order = paid_order(buyer, product, place_order, pay_sandbox, quantity=2)
    made = {c.level: (c.distributor_id, c.base_fen, c.rate_bp, c.amount_fen, c.status) for c in db.session.scalars(
        sa.select(Commission).where(Commission.order_id == order.id))}
    assert made == {1: (near.id, 20000, 1000, 2000, "pending"), 2: (middle.id, 20000, 500, 1000, "pending"),
                    3: (top.id, 20000, 200, 400, "pending")}
    assert distribution_queries.earnings(near.id).pending_fen == 2000

    owner_id = db.session.scalar(sa.text("select user_id from merchant_members where merchant_id = :m"),
                                 {"m": order.merchant_id})
    with transaction():
        order_services.ship(owner_id, order.merchant_id, order.order_no, "shunfeng", "SF1234567890")
        order_services.confirm_receipt(buyer.id, order.order_no)
    from app.core.jobs import get_queue
    from app.distribution.tasks import sweep_settlement

    get_queue("low").enqueue(sweep_settlement)
    run_jobs()
    assert distribution_queries.earnings(near.id).settled_fen == 0  # not yet: 7 days after receipt
    with travel(timedelta(days=8)):
        get_queue("low").enqueue(sweep_settlement)
        run_jobs()
    db.session.expire_all()
    assert distribution_queries.earnings(near.id).available_fen == 2000
    with pytest.raises(Conflict), transaction():
        withdrawals.request(near.user, {"amount": "20.01", "method": "alipay", "account_name": "张三",
                                        "account_no": "zs@example.com"})
    with transaction():
        withdrawals.request(near.user, {"amount": "20", "method": "alipay", "account_name": "张三",
                                        "account_no": "zs@example.com"})
    assert distribution_queries.earnings(near.id).available_fen == 0


def test_frozen_level_is_skipped_not_passed_up(set_rules, make_distributor, make_user, make_product, place_order,
                                                pay_sandbox):
    from app.distribution import distributors

    set_rules()
    top = make_distributor()
    near = make_distributor(parent=top)
    buyer = make_user()
    with transaction():
        referrals.bind(buyer, near.code, "link", is_new_user=True)
        distributors.freeze(make_user(admin_role="super"), near.id, "违规推广")
    order = paid_order(buyer, make_product(price_fen=10000), place_order, pay_sandbox)
    made = {c.level: c.distributor_id for c in db.session.scalars(
        sa.select(Commission).where(Commission.order_id == order.id))}
    assert made == {2: top.id}


def test_partial_refund_voids_its_share(set_rules, make_distributor, make_user, make_product, place_order,
                                        pay_sandbox):
    set_rules()
    near = make_distributor()
    buyer = make_user()
    with transaction():
        referrals.bind(buyer, near.code, "link", is_new_user=True)
    order = paid_order(buyer, make_product(price_fen=3333, stocks=(9,)), place_order, pay_sandbox, quantity=3)
    item = order.items[0]
    with transaction():
        commissions.on_item_refunded(item.id, 1, 3)
    commission = db.session.scalar(sa.select(Commission).where(Commission.order_item_id == item.id))
    assert (commission.amount_fen, commission.void_fen, commission.status) == (1000, 333, "pending")
    with transaction():
        commissions.on_item_refunded(item.id, 3, 3)
    db.session.expire_all()
    commission = db.session.get(Commission, commission.id)
    assert (commission.void_fen, commission.status) == (1000, "void")


def test_approving_an_application_already_rejected_is_refused(set_rules, make_user):
    """Two reviewers: one rejects, the other (whose page still showed 'pending') approves."""
    from app.distribution import distributors
    from app.distribution.models import Distributor

    set_rules(qualification="application")
    applicant = make_user()
    with transaction():
        row = distributors.apply(applicant, {"real_name": "张三", "phone": "13912345678", "reason": "想分享"})
    with transaction():
        distributors.reject(make_user(admin_role="operator"), row.id, "资料不全")
    with pytest.raises(Conflict), transaction():
        distributors.approve(make_user(admin_role="operator"), row.id)
    db.session.expire_all()
    assert db.session.get(Distributor, row.id).status == "rejected"
    with pytest.raises(Conflict), transaction():
        distributors.unfreeze(make_user(admin_role="super"), row.id)  # not frozen: nothing to undo
    assert db.session.get(Distributor, row.id).status == "rejected"
