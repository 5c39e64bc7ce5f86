"""What after-sales does to distributors' commission: held while a request is open,
voided in proportion before settlement, clawed back after it, and a clawback beyond the
balance becomes a debt that the next settled commission pays first."""
# ruff: noqa: F811  (the fixtures imported below are named as test arguments)
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.aftersales import platform, services
from app.core.clock import travel
from app.core.db import transaction
from app.core.jobs import get_queue
from app.distribution import queries as distribution_queries
from app.distribution import referrals, withdrawals
from app.distribution.models import Commission, Distributor, DistributorLedgerEntry
from app.distribution.tasks import sweep_settlement
from app.extensions import db
from tests.aftersales.conftest import apply, owner_of, receive, ship
from tests.distribution.conftest import set_rules  # noqa: F401  (a fixture)


def settle_all(run_jobs) -> None:
    db.session.commit()
    get_queue("low").enqueue(sweep_settlement)
    run_jobs()
    db.session.expire_all()


def commissions_of(order_id: int) -> list[Commission]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Commission).where(Commission.order_id == order_id)
                                   .order_by(Commission.level)))


def referred_buyer(set_rules, make_distributor, make_user):
    set_rules(levels="1", settlement_delay_days="7")
    near = make_distributor()
    buyer = make_user()
    with transaction():
        referrals.bind(buyer, near.code, "link", is_new_user=True)
    return near, buyer


def test_an_open_request_holds_its_items_commission_until_it_ends(set_rules, make_distributor, make_user, bought,
                                                                  run_jobs):
    near, buyer = referred_buyer(set_rules, make_distributor, make_user)
    order = receive(ship(bought(quantity=1, price_fen=10000, buyer=buyer)))
    aftersale = apply(order, kind="return_refund")
    with travel(timedelta(days=8)):
        settle_all(run_jobs)
        assert [c.status for c in commissions_of(order.id)] == ["pending"]  # held by the request
        with transaction():
            services.cancel(buyer.id, aftersale.aftersale_no)
        settle_all(run_jobs)
    assert [(c.status, c.payable_fen) for c in commissions_of(order.id)] == [("settled", 1000)]
    assert distribution_queries.earnings(near.id).available_fen == 1000


def test_a_partial_refund_before_settlement_voids_its_share(set_rules, make_distributor, make_user, bought,
                                                           run_jobs):
    near, buyer = referred_buyer(set_rules, make_distributor, make_user)
    order = receive(ship(bought(quantity=3, price_fen=3333, buyer=buyer)))  # base 9999: commission 1000
    aftersale = apply(order, kind="refund_only", quantity=1)
    with transaction():
        services.refund(owner_of(order), aftersale.aftersale_no)
    run_jobs()
    [commission] = commissions_of(order.id)
    assert (commission.status, commission.void_fen) == ("pending", 333)
    with travel(timedelta(days=8)):
        settle_all(run_jobs)
    assert distribution_queries.earnings(near.id).available_fen == 667


def test_a_refund_after_settlement_and_withdrawal_becomes_a_debt_paid_first(
        set_rules, make_distributor, make_user, bought, run_jobs, client, login, api_token):
    near, buyer = referred_buyer(set_rules, make_distributor, make_user)
    admin = make_user(admin_role="super")
    first = receive(ship(bought(quantity=2, price_fen=10000, buyer=buyer)))  # commission 2000
    with travel(timedelta(days=8)):
        settle_all(run_jobs)
        assert distribution_queries.earnings(near.id).available_fen == 2000
        user = db.session.get(Distributor, near.id).user
        with transaction():
            withdrawal = withdrawals.request(user, {"amount": "20", "method": "alipay", "account_name": "张三",
                                                    "account_no": "zs@example.com"})
        with transaction():
            withdrawals.approve(admin, withdrawal.id)
        with transaction():
            withdrawals.mark_paid(admin, withdrawal.id, "TR20261206001")
        assert distribution_queries.earnings(near.id).available_fen == 0

        # the platform refunds one of the two units after the money was withdrawn
        with transaction():
            platform.cancel_and_refund(admin, first.order_no, [(first.items[0].id, 1)], "质量问题，平台介入退款")
        run_jobs()
        money = distribution_queries.earnings(near.id)
        assert (money.balance_fen, money.available_fen, money.debt_fen) == (-1000, 0, 1000)
        login(user)
        assert "待抵扣 ¥10.00" in client.get("/distributor/").get_data(as_text=True)
        summary = client.get("/api/v1/distributor", headers=api_token(user)).json["summary"]
        assert (summary["available_fen"], summary["debt_fen"]) == (0, 1000)
        [clawed] = commissions_of(first.id)
        assert (clawed.status, clawed.void_fen) == ("settled", 1000)
        assert db.session.scalar(sa.select(DistributorLedgerEntry.amount_fen).where(
            DistributorLedgerEntry.kind == "commission_clawback")) == -1000

    # the next commission pays the debt first, the one after is the distributor's
    for expected_available in (0, 1000):
        order = receive(ship(bought(quantity=1, price_fen=10000, buyer=buyer)))
        with travel(timedelta(days=8)):
            settle_all(run_jobs)
        assert [c.status for c in commissions_of(order.id)] == ["settled"]
        money = distribution_queries.earnings(near.id)
        assert money.available_fen == expected_available and money.debt_fen == 0
