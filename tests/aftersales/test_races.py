"""After-sales races with real threads on PostgreSQL: each side in its own session and
transaction, released together. Exactly one wins; money, stock and holds are right."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.aftersales import applications, platform, services
from app.aftersales.models import AfterSale
from app.core.db import transaction
from app.core.errors import DomainError
from app.extensions import db
from app.orders.models import Order, OrderItem
from app.payments.models import Payment, Refund
from tests.aftersales.conftest import age, apply, default_address_id, fresh, owner_of, receive, ship
from tests.race import at_once

# Each thread commits in its own session: these tests commit for real (`live_db`).
pytestmark = [pytest.mark.live_db, pytest.mark.usefixtures("require_postgres")]


@pytest.fixture
def require_postgres(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks and concurrent sessions need PostgreSQL")


def outcome(results) -> list[str]:
    return ["ok" if not isinstance(r, Exception) else getattr(r, "code", type(r).__name__) for r in results]


def test_the_shop_approves_while_the_buyer_withdraws(app, bought):
    for _round in range(3):
        order = receive(ship(bought(quantity=1)))
        aftersale = apply(order, kind="refund_only")
        shop = owner_of(order)

        def act(i, shop=shop, number=aftersale.aftersale_no, buyer_id=order.buyer_id):
            with transaction():
                if i == 0:
                    return services.approve(shop, number).status
                return services.cancel(buyer_id, number).status

        results = at_once(2, act, app=app)
        assert sorted(outcome(results)).count("ok") == 1, results
        final = fresh(aftersale)
        refunds = db.session.scalar(sa.select(sa.func.count()).select_from(Refund)
                                    .where(Refund.aftersale_id == aftersale.id))
        item = db.session.get(OrderItem, order.items[0].id)
        if final.status == "cancelled":
            assert refunds == 0 and item.refunded_quantity == 0 and item.open_aftersale_id is None
        else:
            assert final.status == "refunding" and refunds == 1 and item.refunded_quantity == 1


def test_two_refunds_of_one_item_at_once_refund_it_once(app, bought):
    """The shop's refund, its approval from a second tab and the deadline sweep all try
    to refund the same request at the same moment."""
    order = receive(ship(bought(quantity=2, shipping_fen=500)))
    aftersale = apply(order, kind="refund_only", quantity=2)
    age(aftersale, days=1)
    shop = owner_of(order)

    def act(i):
        with transaction():
            if i == 0:
                return services.refund(shop, aftersale.aftersale_no).status
            if i == 1:
                return services.approve(shop, aftersale.aftersale_no).status
            return services.act_on_deadline(aftersale.id) or "not due"

    results = at_once(3, act, app=app)
    assert sum(r in ("refunding", True) for r in results) == 1, results
    db.session.expire_all()
    item = db.session.get(OrderItem, order.items[0].id)
    assert item.refunded_quantity == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund).where(Refund.order_id == order.id)) == 1
    assert db.session.get(Order, order.id).refunded_fen == 2 * 9900  # shipped: shipping stays with the shop


def test_two_applications_for_one_item_at_once_open_one(app, bought):
    order = receive(ship(bought(quantity=3)))

    def act(i):
        with transaction():
            return applications.apply(order.buyer_id, order.order_no, applications.Application(
                lines=[(order.items[0].id, 1)], kind="return_refund", reason="quality")).aftersale_no

    results = at_once(4, act, app=app)
    assert outcome(results).count("ok") == 1, results
    assert set(outcome(results)) <= {"ok", "aftersale_not_allowed"}
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AfterSale)) == 1


def test_the_platform_and_the_buyer_refund_the_last_units_at_once(app, bought, make_user):
    """Cancel-and-refund of everything by an admin races the buyer's refund-only for the
    same unshipped item: the item is refunded once, shipping once, stock back once."""
    admin = make_user(admin_role="super")
    order = bought(quantity=2, shipping_fen=800, auto_refund=True)
    sku_id = order.items[0].sku_id

    def act(i):
        with transaction():
            if i == 0:
                return platform.cancel_and_refund(admin, order.order_no, None, "平台核实缺货").aftersale_no
            return applications.apply(order.buyer_id, order.order_no, applications.Application(
                lines=[(order.items[0].id, 2)], kind="refund_only", reason="no_longer_wanted")).aftersale_no

    results = at_once(2, act, app=app)
    assert outcome(results).count("ok") == 1, results
    db.session.expire_all()
    closed = db.session.get(Order, order.id)
    assert closed.status == "closed" and closed.refunded_fen == 2 * 9900 + 800
    payment = db.session.get(Payment, closed.payment_id)
    assert payment.refunded_fen == closed.amount_fen
    from app.catalog.models import Sku
    assert db.session.get(Sku, sku_id).stock == 10


def test_a_payment_can_never_be_refunded_beyond_what_it_collected(bought):
    """The database itself refuses, whatever code tries (the CHECK behind the guarded UPDATE)."""
    order = bought(quantity=1)
    with pytest.raises(IntegrityError):
        db.session.execute(sa.update(Payment).where(Payment.id == order.payment_id)
                           .values(refunded_fen=Payment.amount_fen + 1))
        db.session.flush()
    db.session.rollback()
    with pytest.raises(IntegrityError):
        db.session.execute(sa.update(Order).where(Order.id == order.id).values(refunded_fen=Order.amount_fen + 1))
        db.session.flush()
    db.session.rollback()


def test_approving_twice_at_once_gives_one_return_address_step(app, bought):
    order = receive(ship(bought(quantity=1)))
    aftersale = apply(order, kind="return_refund")
    shop = owner_of(order)
    address_id = default_address_id(order)

    def act(i):
        with transaction():
            return services.approve(shop, aftersale.aftersale_no, address_id).status

    results = at_once(3, act, app=app)
    assert outcome(results).count("ok") == 1, results
    assert all(isinstance(r, DomainError) for r in results if r != "awaiting_return")
    steps = [s for s in services.timeline(aftersale.id)]
    assert [s.to_status for s in steps] == ["pending", "awaiting_return"]
