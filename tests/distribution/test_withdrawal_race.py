"""Withdrawals racing for one balance on real PostgreSQL: ten requests of 30 yuan
at once against 100 yuan available end with exactly three withdrawals and seven
clean `insufficient_balance` refusals; frozen distributors and amounts outside the
rules' minimum and maximum are refused with nothing written."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.core.clock import travel
from app.core.db import transaction
from app.core.errors import DomainError
from app.distribution import commissions, distributors, referrals, withdrawals
from app.distribution import queries as distribution_queries
from app.distribution.models import Commission, DistributorLedgerEntry, Withdrawal
from app.extensions import db
from app.orders import checkout
from app.orders import services as order_services
from app.orders.models import Order
from tests.factories import sandbox_notification
from tests.race import at_once

pytestmark = pytest.mark.live_db
ALIPAY = {"method": "alipay", "account_name": "张三", "account_no": "zs@example.com"}


def race(app, n, work):
    """Run `work(i)` in n threads released together, each in its own app context and
    session; return what each returned or raised."""
    return at_once(n, work, app=app)


@pytest.fixture
def earner(set_rules, make_distributor, make_user, make_product, make_address, client):
    """An active distributor with 100 yuan available: 10% of a 1000-yuan order, received
    and settled through the services with the clock moved past the delay."""
    set_rules(withdrawal_min="10", withdrawal_max="50")
    near = make_distributor()
    buyer = make_user()
    with transaction():
        referrals.bind(buyer, near.code, "link", is_new_user=True)
    product = make_product(price_fen=100_000)
    address = make_address(buyer)
    buyer_id, user_id, distributor_id = buyer.id, near.user_id, near.id
    with transaction():
        payment = checkout.submit(buyer, [(product.skus[0].id, 1)], address.id, {}, uuid.uuid4().hex)
        payment_id, out_trade_no, amount_fen = payment.id, payment.out_trade_no, payment.amount_fen
    body, headers = sandbox_notification(out_trade_no, amount_fen)
    assert client.post("/payments/notify/sandbox", data=body, headers=headers).status_code == 200
    db.session.expire_all()
    order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment_id))
    owner_id = db.session.scalar(sa.text("select user_id from merchant_members where merchant_id = :m"),
                                 {"m": order.merchant_id})
    with transaction():
        order_services.ship(owner_id, order.merchant_id, order.order_no, "shunfeng", "SF1234567890")
        order_services.confirm_receipt(buyer_id, order.order_no)
    with travel(timedelta(days=8)):
        for commission_id in db.session.scalars(sa.select(Commission.id).where(Commission.order_id == order.id)):
            with transaction():
                assert commissions.settle(commission_id)
    assert distribution_queries.earnings(distributor_id).available_fen == 10_000
    db.session.remove()
    return user_id, distributor_id


def test_ten_concurrent_requests_of_30_yuan_against_100_yuan(app, earner):
    user_id, distributor_id = earner

    def request(i):
        with transaction():
            withdrawal = withdrawals.request(db.session.get(User, user_id), {"amount": "30", **ALIPAY})
            withdrawal_id = withdrawal.id
        # after my commit, the balance as anyone would read it
        return withdrawal_id, distribution_queries.earnings(distributor_id).available_fen

    results = race(app, 10, request)
    won = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(won) == 3 and len(refused) == 7, results
    assert {e.code for e in refused} == {"insufficient_balance"}
    assert all(balance >= 0 for _id, balance in won)

    db.session.expire_all()
    amounts = list(db.session.scalars(sa.select(Withdrawal.amount_fen).where(
        Withdrawal.distributor_id == distributor_id).order_by(Withdrawal.id)))
    assert amounts == [3000, 3000, 3000]
    earned = distribution_queries.earnings(distributor_id)
    assert (earned.available_fen, earned.in_progress_fen, earned.settled_fen) == (1000, 9000, 10_000)
    reserved = db.session.scalar(sa.select(sa.func.count(DistributorLedgerEntry.id)).where(
        DistributorLedgerEntry.distributor_id == distributor_id, DistributorLedgerEntry.kind == "withdrawal_requested"))
    assert reserved == 3


def test_frozen_distributor_cannot_withdraw(earner, make_user):
    user_id, distributor_id = earner
    with transaction():
        distributors.freeze(make_user(admin_role="super"), distributor_id, "违规推广")
    with pytest.raises(DomainError) as refused, transaction():
        withdrawals.request(db.session.get(User, user_id), {"amount": "30", **ALIPAY})
    assert refused.value.code == "cannot_withdraw"
    assert db.session.scalar(sa.select(sa.func.count(Withdrawal.id))) == 0


@pytest.mark.parametrize("amount, code", [("9.99", "below_minimum"), ("0", "below_minimum"),
                                          ("50.01", "above_maximum"), ("-5", "invalid_amount"),
                                          ("abc", "invalid_amount"), ("30.001", "invalid_amount")],
                         ids=["below-min", "zero", "above-max", "negative", "not-a-number", "three-decimals"])
def test_amounts_outside_the_rules_are_refused(earner, amount, code):
    user_id, distributor_id = earner
    with pytest.raises(DomainError) as refused, transaction():
        withdrawals.request(db.session.get(User, user_id), {"amount": amount, **ALIPAY})
    assert refused.value.code == code
    assert db.session.scalar(sa.select(sa.func.count(Withdrawal.id))) == 0
    assert distribution_queries.earnings(distributor_id).available_fen == 10_000


def test_the_limits_themselves_are_accepted(earner):
    user_id, distributor_id = earner
    for amount in ("10", "50"):
        with transaction():
            withdrawals.request(db.session.get(User, user_id), {"amount": amount, **ALIPAY})
    assert distribution_queries.earnings(distributor_id).available_fen == 4000
