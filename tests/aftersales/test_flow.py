"""After-sales through the real services: each kind from application to its end, with
money (refunds through the sandbox gateway and a real worker), stock and the order
checked at every step."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.aftersales import applications, services
from app.aftersales.models import AfterSaleEvent
from app.core.db import transaction
from app.core.errors import Conflict, NotFound, StaleState, ValidationError
from app.extensions import db
from app.inventory.models import StockMovement
from app.orders.models import Order, OrderItem
from app.payments.models import Payment, Refund
from tests.aftersales.conftest import apply, default_address_id, fresh, owner_of, receive, ship
from tests.factories import png_bytes


def stock_of(sku_id: int) -> int:
    from app.catalog.models import Sku
    db.session.expire_all()
    return db.session.get(Sku, sku_id).stock


def order_of(order) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order.id)


# --- refund-only before shipping (cancel and refund) -----------------------------------------------

def test_refund_before_shipping_is_approved_at_once_and_gives_back_shipping_stock_and_money(bought, run_jobs):
    order = bought(quantity=2, shipping_fen=800, stocks=(10,))
    sku_id = order.items[0].sku_id
    assert stock_of(sku_id) == 8
    aftersale = apply(order, kind="refund_only", quantity=2, reason="no_longer_wanted")

    assert aftersale.status == "refunding" and aftersale.before_shipping
    assert aftersale.refund_fen == 2 * 9900 + 800 and aftersale.shipping_refund_fen == 800
    assert stock_of(sku_id) == 10  # back on the shelf once
    closed = order_of(order)
    assert closed.status == "closed" and closed.refunded_fen == closed.amount_fen
    assert closed.items[0].refunded_quantity == 2
    refund = db.session.scalar(sa.select(Refund).where(Refund.aftersale_id == aftersale.id))
    assert refund.amount_fen == 2 * 9900 + 800 and refund.out_refund_no == f"RA{aftersale.aftersale_no}"
    assert db.session.get(Payment, closed.payment_id).refunded_fen == refund.amount_fen

    run_jobs()
    done = fresh(aftersale)
    assert done.status == "refunded"
    assert db.session.get(OrderItem, order.items[0].id).open_aftersale_id is None
    movements = db.session.scalars(sa.select(StockMovement).where(StockMovement.ref_id == aftersale.aftersale_no)).all()
    assert [(m.reason, m.delta) for m in movements] == [("order_release", 2)]


def test_part_of_an_unshipped_order_refunds_its_share_only_and_the_rest_ships(bought, run_jobs):
    order = bought(quantity=3, shipping_fen=800)
    aftersale = apply(order, kind="refund_only", quantity=1)
    assert aftersale.status == "refunding" and aftersale.refund_fen == 9900 and aftersale.shipping_refund_fen == 0
    assert order_of(order).status == "paid"
    run_jobs()
    shipped = ship(order)  # the request has ended: nothing holds the items
    assert shipped.status == "shipped" and shipped.items[0].refunded_quantity == 1


def test_a_shop_that_reviews_refunds_itself_must_answer_before_it_can_ship(bought):
    order = bought(quantity=1, auto_refund=False)
    aftersale = apply(order, kind="refund_only")
    assert aftersale.status == "pending" and aftersale.due_at is not None
    with pytest.raises(StaleState) as refused:
        ship(order)
    assert refused.value.code == "aftersale_open"
    with transaction():
        services.approve(owner_of(order), aftersale.aftersale_no)
    assert fresh(aftersale).status == "refunding"


def test_only_refund_only_before_shipping(bought):
    order = bought()
    with pytest.raises(Conflict) as refused:
        apply(order, kind="return_refund")
    assert refused.value.code == "aftersale_not_allowed"


# --- return and refund -----------------------------------------------------------------------------

def test_return_and_refund_with_restock(bought, run_jobs):
    order = receive(ship(bought(quantity=2, shipping_fen=600)))
    sku_id = order.items[0].sku_id
    before = stock_of(sku_id)
    aftersale = apply(order, kind="return_refund", quantity=1, description="有划痕", images=[png_bytes()])
    assert aftersale.status == "pending" and len(aftersale.images) == 1 and aftersale.refund_fen == 9900
    shop = owner_of(order)

    # a return needs an address of the shop's
    with pytest.raises(ValidationError), transaction():
        services.approve(shop, aftersale.aftersale_no, return_address_id=None)
    with transaction():
        services.approve(shop, aftersale.aftersale_no, return_address_id=default_address_id(order))
    approved = fresh(aftersale)
    assert approved.status == "awaiting_return" and approved.return_address["recipient"] == "售后部"

    with transaction():
        services.ship_back(order.buyer_id, aftersale.aftersale_no, "yuantong", "yt9988776655")
    returned = fresh(aftersale)
    assert returned.status == "returned" and returned.return_tracking_no == "YT9988776655"

    with transaction():
        services.receive(shop, aftersale.aftersale_no, restock=True)
    refunding = fresh(aftersale)
    assert refunding.status == "refunding" and refunding.restocked is True
    assert stock_of(sku_id) == before + 1
    assert order_of(order).status == "received"  # one of two units is still the buyer's
    run_jobs()
    assert fresh(aftersale).status == "refunded"
    steps = [e.to_status for e in db.session.scalars(sa.select(AfterSaleEvent).where(
        AfterSaleEvent.aftersale_id == aftersale.id).order_by(AfterSaleEvent.id))]
    assert steps == ["pending", "awaiting_return", "returned", "refunding", "refunded"]


def test_a_damaged_return_is_refunded_without_restock(bought, run_jobs):
    order = receive(ship(bought(quantity=1)))
    sku_id = order.items[0].sku_id
    before = stock_of(sku_id)
    aftersale = apply(order, kind="return_refund")
    shop = owner_of(order)
    with transaction():
        services.approve(shop, aftersale.aftersale_no, default_address_id(order))
    with transaction():
        services.ship_back(order.buyer_id, aftersale.aftersale_no, "shunfeng", "SF0000111122")
    with transaction():
        services.receive(shop, aftersale.aftersale_no, restock=False)
    assert stock_of(sku_id) == before
    run_jobs()
    assert fresh(aftersale).status == "refunded"
    assert order_of(order).status == "closed"  # everything went back, shipping stays with the shop
    assert order_of(order).refunded_fen == 9900


# --- exchange --------------------------------------------------------------------------------------

def test_exchange_takes_the_replacement_from_stock_and_completes(bought):
    order = receive(ship(bought(quantity=1, stocks=(5,))))
    sku_id = order.items[0].sku_id
    aftersale = apply(order, kind="exchange", reason="size_color")
    shop = owner_of(order)
    with transaction():
        services.approve(shop, aftersale.aftersale_no, default_address_id(order))
    with transaction():
        services.ship_back(order.buyer_id, aftersale.aftersale_no, "shunfeng", "SF2222333344")
    with pytest.raises(StaleState) as early, transaction():
        services.ship_replacement(shop, aftersale.aftersale_no, "shunfeng", "SF5555666677")
    assert early.value.code == "return_not_received"
    with transaction():
        services.receive(shop, aftersale.aftersale_no, restock=True)
    assert fresh(aftersale).status == "returned" and stock_of(sku_id) == 5
    with transaction():
        services.ship_replacement(shop, aftersale.aftersale_no, "shunfeng", "SF5555666677")
    assert fresh(aftersale).status == "exchange_shipped" and stock_of(sku_id) == 4
    movement = db.session.scalar(sa.select(StockMovement).where(StockMovement.reason == "exchange_out"))
    assert movement.delta == -1 and movement.ref_id == aftersale.aftersale_no
    with transaction():
        services.confirm_replacement(order.buyer_id, aftersale.aftersale_no)
    done = fresh(aftersale)
    assert done.status == "completed" and order_of(order).refunded_fen == 0
    assert db.session.get(OrderItem, order.items[0].id).open_aftersale_id is None


# --- what is refused -------------------------------------------------------------------------------

def test_one_open_request_per_item_and_never_more_than_is_left(bought):
    order = receive(ship(bought(quantity=2)))
    apply(order, kind="refund_only", quantity=1)
    with pytest.raises(Conflict) as second:
        apply(order, kind="return_refund", quantity=1)
    assert second.value.code == "aftersale_not_allowed"

    other = receive(ship(bought(quantity=2)))
    with pytest.raises(Conflict) as too_many:
        apply(other, kind="refund_only", quantity=3)
    assert too_many.value.code == "aftersale_not_allowed"


def test_the_window_after_receipt_closes_after_the_settings_days(bought):
    from datetime import timedelta

    from app.core.clock import travel
    order = receive(ship(bought(quantity=1)))
    with travel(timedelta(days=7, minutes=1)), pytest.raises(Conflict) as late:
        apply(order, kind="return_refund")
    assert late.value.code == "aftersale_not_allowed"


def test_a_category_can_give_its_products_a_longer_window(bought):
    from datetime import timedelta

    from app.catalog.models import Category, Product
    from app.core.clock import travel
    order = bought(quantity=1)
    product = db.session.get(Product, order.items[0].product_id)
    db.session.get(Category, product.category_id).aftersale_window_days = 15
    db.session.commit()
    order = receive(ship(order))
    with travel(timedelta(days=10)):
        assert apply(order, kind="return_refund").status == "pending"


def test_someone_elses_order_is_not_found(bought, make_user):
    order = bought()
    stranger = make_user()
    with pytest.raises(NotFound), transaction():
        applications.apply(stranger.id, order.order_no, applications.Application(
            lines=[(order.items[0].id, 1)], kind="refund_only", reason="quality"))


def test_bad_forms_say_which_field(bought):
    order = bought()
    with pytest.raises(ValidationError) as no_text:
        apply(order, kind="refund_only", reason="other")
    assert "reason_text" in no_text.value.fields
    with pytest.raises(ValidationError) as kind:
        apply(order, kind="swap")
    assert kind.value.code == "invalid_aftersale_kind"
    with pytest.raises(ValidationError) as images:
        apply(order, kind="refund_only", images=[png_bytes()] * 7)
    assert images.value.code == "too_many_images"
    assert order_of(order).items[0].open_aftersale_id is None  # nothing changed


def test_a_rejected_request_may_be_edited_and_sent_again_three_times(bought):
    order = receive(ship(bought(quantity=1)))
    aftersale = apply(order, kind="return_refund")
    shop = owner_of(order)
    for attempt in range(4):
        with transaction():
            services.reject(shop, aftersale.aftersale_no, "商品无质量问题")
        rejected = fresh(aftersale)
        assert rejected.status == "rejected" and rejected.reject_reason == "商品无质量问题"
        application = applications.Application(lines=[(order.items[0].id, 1)], kind="refund_only", reason="quality",
                                           description=f"第 {attempt + 2} 次")
        if attempt == 3:
            with pytest.raises(StaleState) as limit, transaction():
                applications.reapply(order.buyer_id, aftersale.aftersale_no, application)
            assert limit.value.code == "reapply_limit"
        else:
            with transaction():
                applications.reapply(order.buyer_id, aftersale.aftersale_no, application)
            again = fresh(aftersale)
            assert again.status == "pending" and again.kind == "refund_only" and again.reapplied == attempt + 1


def test_the_buyer_withdraws_and_the_item_is_free_again(bought):
    order = receive(ship(bought(quantity=1)))
    aftersale = apply(order, kind="return_refund")
    with transaction():
        services.cancel(order.buyer_id, aftersale.aftersale_no)
    assert fresh(aftersale).status == "cancelled"
    assert apply(order, kind="refund_only").status == "pending"


def test_another_shop_and_another_buyer_are_refused_on_every_act(bought, make_merchant, make_user):
    from app.aftersales.policies import staff
    from app.merchants.models import MerchantMember
    order = receive(ship(bought(quantity=1)))
    aftersale = apply(order, kind="return_refund")
    other_shop = make_merchant()
    member = db.session.scalar(sa.select(MerchantMember).where(MerchantMember.merchant_id == other_shop.id))
    stranger = staff(member)
    for act in (lambda: services.approve(stranger, aftersale.aftersale_no, 1),
                lambda: services.reject(stranger, aftersale.aftersale_no, "不行不行"),
                lambda: services.refund(stranger, aftersale.aftersale_no),
                lambda: services.receive(stranger, aftersale.aftersale_no, True)):
        with pytest.raises(NotFound):
            act()
    someone = make_user()
    for act in (lambda: services.cancel(someone.id, aftersale.aftersale_no),
                lambda: services.ship_back(someone.id, aftersale.aftersale_no, "shunfeng", "SF1111111111")):
        with pytest.raises(NotFound):
            act()
    db.session.rollback()
    assert fresh(aftersale).status == "pending"
