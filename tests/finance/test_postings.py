"""What the business changes write in the books, to the fen (docs/finance.md, "Postings"):
an order's money is the shop's pending money, its commission the distributor's, a refund
takes it back from whichever the order's money is in, completion settles it less the
platform's fee, and money no longer held becomes a debt paid first from the next."""
# ruff: noqa: F811  (the fixtures imported below are named as test arguments)
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.aftersales import platform, services
from app.core.clock import travel
from app.core.db import transaction
from app.distribution import commissions, referrals, withdrawals
from app.distribution.models import Distributor
from app.extensions import db
from app.finance import ledger, merchant_withdrawals, postings
from app.finance.errors import FinanceError
from app.finance.models import LedgerTransaction
from app.finance.states import AccountKind as K
from app.orders import services as order_services
from app.orders.models import Order
from tests.aftersales.conftest import apply, bought, owner_of, receive, ship  # noqa: F401
from tests.distribution.conftest import set_rules  # noqa: F401
from tests.factories import sandbox_notification
from tests.finance.books import assert_books_hold
from tests.race import at_once

pytestmark = pytest.mark.usefixtures("books_hold")


def shop(order, kind=K.MERCHANT_PENDING) -> int:
    return ledger.shown_balance(kind, order.merchant_id)


def kinds_of(order) -> list[str]:
    return list(db.session.scalars(sa.select(LedgerTransaction.kind).where(LedgerTransaction.order_id == order.id)
                                   .order_by(LedgerTransaction.id)))


def complete(order) -> Order:
    with travel(timedelta(days=8)), transaction():
        assert order_services.complete(order.id)
    db.session.expire_all()
    return db.session.get(Order, order.id)


@pytest.fixture
def referred(set_rules, make_distributor, make_user):
    """A buyer brought by a distributor earning 10% at level 1."""
    set_rules(levels="1", settlement_delay_days="7")
    near = make_distributor()
    buyer = make_user()
    near_id, buyer_id = near.id, buyer.id
    with transaction():
        referrals.bind(buyer, near.code, "link", is_new_user=True)
    return db.session.get(Distributor, near_id), db.session.get(User, buyer_id)


def test_a_paid_order_is_the_shops_pending_money_less_the_commission_and_a_replay_posts_nothing(
        referred, bought, client):
    near, buyer = referred
    order = bought(quantity=1, price_fen=10000, buyer=buyer)
    assert ledger.shown_balance(K.CLEARING, provider="sandbox") == 10000
    assert shop(order) == 9000
    assert ledger.shown_balance(K.DISTRIBUTOR_PENDING, near.id) == 1000
    assert kinds_of(order) == ["collection", "commission_made"]

    body, headers = sandbox_notification(order.payment.out_trade_no, 10000,
                                         transaction_id=order.payment.transaction_id)
    db.session.commit()
    assert client.post("/payments/notify/sandbox", data=body, headers=headers).status_code == 200
    assert kinds_of(order) == ["collection", "commission_made"]
    assert shop(order) == 9000


def test_completion_settles_what_is_left_less_the_fee_once(referred, bought):
    near, buyer = referred
    order = receive(ship(bought(quantity=1, price_fen=10000, buyer=buyer)))
    assert [item.platform_fee_bp for item in order.items] == [500]  # the platform's default 5%
    order = complete(order)
    assert order.settled_at is not None
    assert (shop(order), shop(order, K.MERCHANT_AVAILABLE)) == (0, 10000 - 1000 - 500)
    assert ledger.shown_balance(K.PLATFORM_FEES) == 500
    with transaction():  # completion's receiver again (a replayed signal): nothing more
        assert postings.settle_order(order) is False
    assert kinds_of(order) == ["collection", "commission_made", "merchant_settlement"]


def test_a_partial_refund_before_settlement_comes_out_of_pending_and_the_fee_is_on_what_was_kept(
        referred, bought, run_jobs):
    near, buyer = referred
    order = receive(ship(bought(quantity=3, price_fen=3333, buyer=buyer)))  # 9999; commission 1000
    aftersale = apply(order, kind="refund_only", quantity=1)
    with transaction():
        services.refund(owner_of(order), aftersale.aftersale_no)
    # 3333 goes back; the commission's share of it (333) went back to the shop first
    assert shop(order) == 9999 - 1000 + 333 - 3333
    assert ledger.shown_balance(K.DISTRIBUTOR_PENDING, near.id) == 667
    assert ledger.shown_balance(K.REFUNDS) == 3333
    run_jobs()  # the sandbox confirms the refund
    assert ledger.shown_balance(K.REFUNDS) == 0
    assert ledger.shown_balance(K.CLEARING, provider="sandbox") == 9999 - 3333
    assert kinds_of(order) == ["collection", "commission_made", "commission_voided", "refund_started",
                               "refund_done"]
    order = complete(order)
    # fee: 5% of the 6666 kept
    assert shop(order, K.MERCHANT_AVAILABLE) == 9999 - 1000 + 333 - 3333 - 333
    assert ledger.shown_balance(K.PLATFORM_FEES) == 333


def test_a_refund_after_settlement_takes_the_shops_available_money_and_gives_the_fee_back(
        referred, bought, make_user, run_jobs):
    near, buyer = referred
    admin = make_user(admin_role="super")
    order = complete(receive(ship(bought(quantity=2, price_fen=5000, buyer=buyer))))
    assert shop(order, K.MERCHANT_AVAILABLE) == 10000 - 1000 - 500
    assert ledger.shown_balance(K.PLATFORM_FEES) == 500
    with travel(timedelta(days=9)), transaction():
        platform.cancel_and_refund(admin, order.order_no, [(order.items[0].id, 1)], "平台判定退款")
    # half goes back: the pending commission's half (500) returns to the shop first, then
    # 5000 less the fee on it (250) leaves the shop's available money
    assert shop(order, K.MERCHANT_AVAILABLE) == 8500 + 500 - (5000 - 250)
    assert ledger.shown_balance(K.PLATFORM_FEES) == 250
    assert ledger.shown_balance(K.DISTRIBUTOR_PENDING, near.id) == 500
    assert shop(order) == 0 and ledger.shown_balance(K.MERCHANT_DEBTS, order.merchant_id) == 0


def test_a_clawback_beyond_what_the_distributor_holds_is_their_debt(referred, bought, make_user, run_jobs):
    near, buyer = referred
    admin = make_user(admin_role="super")
    order = receive(ship(bought(quantity=2, price_fen=10000, buyer=buyer)))  # commission 2000
    with travel(timedelta(days=8)):
        with transaction():
            for commission_id in commissions.due_ids():
                commissions.settle(commission_id)
        assert ledger.shown_balance(K.DISTRIBUTOR_AVAILABLE, near.id) == 2000
        user = db.session.get(Distributor, near.id).user
        with transaction():
            withdrawal = withdrawals.request(user, {"amount": "20", "method": "alipay", "account_name": "张三",
                                                    "account_no": "zs@example.com"})
        assert ledger.shown_balance(K.PAYOUTS) == 2000
        with transaction():
            withdrawals.approve(admin, withdrawal.id)
            withdrawals.mark_paid(admin, withdrawal.id, "TR20261206001")
        assert ledger.shown_balance(K.PAYOUTS) == 0
        assert ledger.shown_balance(K.CLEARING, provider="sandbox") == 20000 - 2000
        with transaction():
            platform.cancel_and_refund(admin, order.order_no, [(order.items[0].id, 1)], "平台介入退款")
    assert ledger.shown_balance(K.DISTRIBUTOR_DEBTS, near.id) == 1000
    assert ledger.shown_balance(K.DISTRIBUTOR_AVAILABLE, near.id) == 0


def test_paying_a_withdrawal_from_a_gateway_that_does_not_hold_it_is_refused_and_changes_nothing(
        referred, bought, make_user):
    near, buyer = referred
    admin = make_user(admin_role="super")
    receive(ship(bought(quantity=1, price_fen=10000, buyer=buyer)))
    with travel(timedelta(days=8)):
        with transaction():
            for commission_id in commissions.due_ids():
                commissions.settle(commission_id)
        user = db.session.get(Distributor, near.id).user
        with transaction():
            withdrawal = withdrawals.request(user, {"amount": "10", "method": "alipay", "account_name": "张三",
                                                    "account_no": "zs@example.com"})
            withdrawals.approve(admin, withdrawal.id)
        with transaction():
            ledger.account(K.CLEARING, provider="wechat")  # opened, holding nothing
        with pytest.raises(Exception) as refused, transaction():
            withdrawals.mark_paid(admin, withdrawal.id, "TR20261206002", paid_from="wechat")
        assert refused.value.code == FinanceError.PAYING_ACCOUNT_SHORT
        db.session.expire_all()
        assert db.session.get(type(withdrawal), withdrawal.id).status == "approved"
        assert ledger.shown_balance(K.PAYOUTS) == 1000


@pytest.mark.live_db
def test_a_refund_racing_the_settlement_of_its_order_is_taken_from_one_side_once(
        app, bought, make_user):
    """Completion (settling the order) and the platform's refund of it, at once: whichever
    goes second sees the other's result under the order's lock; the shop's money ends the
    same either way."""
    admin = make_user(admin_role="super")
    admin_id = admin.id
    order = receive(ship(bought(quantity=1, price_fen=10000)))
    db.session.commit()
    order_id, order_no = order.id, order.order_no

    def work(i: int):
        with transaction():
            if i == 0:
                return order_services.complete(order_id)
            return platform.cancel_and_refund(db.session.get(User, admin_id), order_no, None, "平台判定退款").id

    with travel(timedelta(days=8)):
        results = at_once(2, work, app=app)
    db.session.expire_all()
    assert not [r for r in results if isinstance(r, Exception)], results
    order = db.session.get(Order, order_id)
    # all 10000 went back: the shop keeps nothing and owes nothing, whichever came first
    assert shop(order) == 0
    assert shop(order, K.MERCHANT_AVAILABLE) - ledger.shown_balance(K.MERCHANT_DEBTS, order.merchant_id) == 0
    assert ledger.shown_balance(K.PLATFORM_FEES) == 0
    assert_books_hold()


def test_a_refund_beyond_what_the_shop_still_holds_is_its_debt_paid_first_from_its_next_order(
        bought, make_user, make_product, place_order, pay_sandbox):
    admin = make_user(admin_role="super")
    order = complete(receive(ship(bought(quantity=1, price_fen=20000))))
    assert shop(order, K.MERCHANT_AVAILABLE) == 19000
    owner = db.session.get(User, owner_of(order).user_id)
    with transaction():
        withdrawal = merchant_withdrawals.request(owner, order.merchant_id, {
            "amount": "190", "method": "alipay", "account_name": "张三", "account_no": "shop@example.com"})
    with transaction():
        merchant_withdrawals.approve(admin, withdrawal.id)
        merchant_withdrawals.mark_paid(admin, withdrawal.id, "TR20261206009")
    assert shop(order, K.MERCHANT_AVAILABLE) == 0
    with travel(timedelta(days=9)), transaction():
        platform.cancel_and_refund(admin, order.order_no, None, "平台判定退款")
    # 20000 went back, the 1000 fee with it: the shop owes the 19000 it withdrew
    assert ledger.shown_balance(K.MERCHANT_DEBTS, order.merchant_id) == 19000
    assert ledger.shown_balance(K.PLATFORM_FEES) == 0

    sku = make_product(merchant=db.session.get(Order, order.id).merchant, price_fen=30000).skus[0]
    payment = place_order(make_user(), [(sku.id, 1)])
    assert pay_sandbox(payment).status_code == 200
    db.session.expire_all()
    second = complete(receive(ship(db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id)))))
    assert ledger.shown_balance(K.MERCHANT_DEBTS, order.merchant_id) == 0
    assert shop(second, K.MERCHANT_AVAILABLE) == 30000 - 1500 - 19000
