"""Random lives of a small platform, through the real services: two shops, a distributor
under another, buyers referred and not. Checkouts paid, left unpaid, cancelled, paid after
cancelling and paid twice; shipped, received, partly refunded by the platform; time moved
on so orders complete and commissions settle; shops and distributors withdraw, finance
pays or rejects. After every step the books must hold (tests/finance/books.py): each
transaction balances, nothing but debts below zero, collected = refunded + fees + paid out
+ still held, every distributor's and the refunds' and payouts' accounts as their records
say; and the day's reconciliation finds nothing to report."""
# ruff: noqa: F811  (the fixtures imported below are named as test arguments)
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.accounts.models import User
from app.aftersales import platform
from app.core import settings as platform_settings
from app.core.clock import travel
from app.core.db import transaction
from app.core.errors import DomainError
from app.distribution import referrals
from app.distribution import withdrawals as distributor_withdrawals
from app.distribution.models import Distributor
from app.distribution.tasks import sweep_settlement
from app.extensions import db
from app.finance import ledger, merchant_withdrawals, reconciliation
from app.finance.states import AccountKind
from app.merchants.models import MerchantMember
from app.orders import checkout
from app.orders import services as order_services
from app.orders.models import Order
from app.orders.states import OrderStatus
from app.orders.tasks import sweep_complete
from app.payments.models import Payment
from tests.distribution.conftest import set_rules  # noqa: F401
from tests.factories import sandbox_notification
from tests.finance.books import assert_books_hold

STEPS = st.lists(st.tuples(
    st.sampled_from(["buy", "buy", "buy", "pay_late", "cancel", "pay_twice", "ship", "refund", "time",
                     "shop_withdraws", "distributor_withdraws"]),
    st.integers(0, 11), st.integers(0, 11)), min_size=4, max_size=14)


class World:
    """The platform one example lives in, made through the factories and services."""

    def __init__(self, set_rules, make_user, make_merchant, make_product, make_distributor, make_address):
        set_rules(levels="2", settlement_delay_days="7", withdrawal_min="1", withdrawal_fee_percent="1")
        self.admin = make_user(admin_role="super")
        with transaction():
            platform_settings.put("merchant_withdrawal_min_fen", 100, self.admin)
            platform_settings.put("merchant_withdrawal_fee_bp", 50, self.admin)
        self.shops = [make_merchant() for _ in range(2)]
        self.skus = [[make_product(merchant=shop, price_fen=price, stocks=(1000,)).skus[0].id
                      for price in prices] for shop, prices in zip(self.shops, ((12000, 3333), (25900, 999)), strict=True)]
        top = make_distributor()
        child = make_distributor(parent=top)
        self.distributors = [top.id, child.id]
        self.buyers = []
        for code in (child.code, None, top.code):
            buyer = make_user()
            if code:
                with transaction():
                    referrals.bind(buyer, code, "link", is_new_user=True)
            self.buyers.append(buyer.id)
        self.addresses = {buyer_id: make_address(db.session.get(User, buyer_id)).id for buyer_id in self.buyers}
        self.payments: list[int] = []


def _orders(world: World, *statuses: str) -> list[Order]:
    return list(db.session.scalars(sa.select(Order).join(Payment).where(
        Payment.id.in_(world.payments), Order.status.in_(statuses)).order_by(Order.id)))


def _payments(world: World) -> list[Payment]:
    return list(db.session.scalars(sa.select(Payment).where(Payment.id.in_(world.payments)).order_by(Payment.id)))


def _pick(rows: list, n: int):
    return rows[n % len(rows)] if rows else None


def _notify(client, payment: Payment, transaction_id: str | None = None) -> None:
    body, headers = sandbox_notification(payment.out_trade_no, payment.amount_fen, transaction_id=transaction_id)
    db.session.commit()
    assert client.post("/payments/notify/sandbox", data=body, headers=headers).status_code == 200


def _step(world: World, op: str, a: int, b: int, client, run_jobs) -> None:
    """One thing happening to the platform. Refusals a real user could meet (a DomainError)
    are part of life; anything else fails the test."""
    if op == "buy":
        buyer = world.buyers[a % 3]
        shops = [[0], [1], [0, 1]][b % 3]
        items = [(world.skus[s][(a + b) % 2], 1 + (a + s) % 3) for s in shops]
        with transaction():
            payment = checkout.submit(db.session.get(User, buyer), items, world.addresses[buyer], {},
                                      uuid.uuid4().hex)
        world.payments.append(payment.id)
        if a % 4:  # most buyers pay at once
            _notify(client, payment)
    elif op == "pay_late":  # possibly after some or all of its orders were cancelled
        payment = _pick([p for p in _payments(world) if p.status != "paid"], a)
        if payment is not None:
            _notify(client, payment)
    elif op == "cancel":
        order = _pick(_orders(world, OrderStatus.PENDING_PAYMENT), a)
        if order is not None:
            with transaction():
                order_services.cancel_by_buyer(order.buyer_id, order.order_no)
    elif op == "pay_twice":  # a second collection of a paid trade, another transaction id
        payment = _pick([p for p in _payments(world) if p.status == "paid"], a)
        if payment is not None:
            _notify(client, payment, transaction_id=f"SB{uuid.uuid4().hex[:20]}")
    elif op == "ship":
        order = _pick(_orders(world, OrderStatus.PAID, OrderStatus.SHIPPED), a)
        if order is not None:
            with transaction():
                if order.status == OrderStatus.PAID:
                    order_services.ship(_owner(order), order.merchant_id, order.order_no, "shunfeng",
                                        "SF1234567890")
                else:
                    order_services.confirm_receipt(order.buyer_id, order.order_no)
    elif op == "refund":
        order = _pick(_orders(world, OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.RECEIVED,
                              OrderStatus.COMPLETED), a)
        if order is not None:
            item = _pick([i for i in order.items if i.refunded_quantity < i.quantity], b)
            if item is not None:
                with transaction():
                    platform.cancel_and_refund(world.admin, order.order_no, [(item.id, 1)], "平台判定退款")
    elif op == "time":  # on past the after-sales windows and settlement delays
        with travel(timedelta(days=8 + b)):
            sweep_complete()
            sweep_settlement()
            _reconciled(reconciliation.today())
    elif op == "shop_withdraws":
        shop = world.shops[a % 2]
        available = ledger.shown_balance(AccountKind.MERCHANT_AVAILABLE, shop.id)
        if available >= 200:
            owner = db.session.get(User, _owner_of_shop(shop.id))
            with transaction():
                withdrawal = merchant_withdrawals.request(owner, shop.id, {
                    "amount": f"{available // 2 / 100:.2f}", "method": "alipay", "account_name": "店主",
                    "account_no": "shop@example.com"})
            with transaction():
                if b % 3:
                    merchant_withdrawals.approve(world.admin, withdrawal.id)
                    merchant_withdrawals.mark_paid(world.admin, withdrawal.id, f"TR{uuid.uuid4().hex[:12]}")
                else:
                    merchant_withdrawals.reject(world.admin, withdrawal.id, "账户信息有误")
    elif op == "distributor_withdraws":
        distributor = db.session.get(Distributor, world.distributors[a % 2])
        available = ledger.shown_balance(AccountKind.DISTRIBUTOR_AVAILABLE, distributor.id)
        if available >= 200:
            with transaction():
                withdrawal = distributor_withdrawals.request(distributor.user, {
                    "amount": f"{available // 2 / 100:.2f}", "method": "alipay", "account_name": "张三",
                    "account_no": "zs@example.com"})
            with transaction():
                if b % 3:
                    distributor_withdrawals.approve(world.admin, withdrawal.id)
                    distributor_withdrawals.mark_paid(world.admin, withdrawal.id, f"TR{uuid.uuid4().hex[:12]}")
                else:
                    distributor_withdrawals.reject(world.admin, withdrawal.id, "账户信息有误")
    run_jobs()  # the sandbox confirms refunds started by the step


def _reconciled(day) -> None:
    """The day's reconciliation (the internal checks) finds nothing to report."""
    with transaction():
        run = reconciliation.reconcile(day)
    assert run.difference_count == 0, [(d.kind, d.reference, d.detail) for d in run.differences]


def _owner_of_shop(merchant_id: int) -> int:
    return db.session.scalar(sa.select(MerchantMember.user_id).where(MerchantMember.merchant_id == merchant_id,
                                                                     MerchantMember.role == "owner"))


def _owner(order: Order) -> int:
    return _owner_of_shop(order.merchant_id)


@pytest.mark.timeout(300)
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=STEPS)
def test_the_books_hold_after_every_step_of_any_life(steps, set_rules, make_user, make_merchant, make_product,
                                                     make_distributor, make_address, client, run_jobs):
    world = World(set_rules, make_user, make_merchant, make_product, make_distributor, make_address)
    for op, a, b in [("buy", 1, 2), *steps]:
        try:
            _step(world, op, a, b, client, run_jobs)
        except DomainError:
            db.session.rollback()
        db.session.expire_all()
        assert_books_hold()
        _reconciled(reconciliation.today())
    assert world.payments  # every life starts with a checkout (below)
