"""Shipping, receipt, reviews and the order lists, through the real services."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.db import transaction
from app.core.errors import Conflict, NotFound, ValidationError
from app.extensions import db
from app.orders import queries, reviews, shipping
from app.orders import services as order_services
from app.orders.models import Order, Review, TrackingEvent
from tests.factories import png_bytes


@pytest.fixture
def paid_order(make_user, make_product, place_order, pay_sandbox):
    """A paid order: returns (buyer, merchant owner, order)."""

    def make(stocks=(5,), quantity=1):
        from app.merchants.models import MerchantMember

        buyer = make_user()
        product = make_product(stocks=stocks)
        payment = place_order(buyer, [(product.skus[0].id, quantity)])
        assert pay_sandbox(payment).status_code == 200
        db.session.expire_all()
        order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))
        owner_id = db.session.scalar(sa.select(MerchantMember.user_id).where(
            MerchantMember.merchant_id == order.merchant_id))
        return buyer, owner_id, order

    return make


def ship(owner_id, order, tracking_no="SF1234567890"):
    with transaction():
        return order_services.ship(owner_id, order.merchant_id, order.order_no, "shunfeng", tracking_no)


def test_ship_then_confirm_then_review(paid_order, make_user):
    buyer, owner_id, order = paid_order()
    with pytest.raises(Conflict), transaction():
        order_services.confirm_receipt(buyer.id, order.order_no)  # not shipped yet
    shipped = ship(owner_id, order)
    assert shipped.status == "shipped" and shipped.shipment.tracking_no == "SF1234567890"
    with pytest.raises(Conflict), transaction():
        reviews.create(buyer.id, order.items[0].id, 5, "好")  # before receipt
    with transaction():
        order_services.confirm_receipt(buyer.id, order.order_no)
    item_id = order.items[0].id
    with transaction():
        review = reviews.create(buyer.id, item_id, 4, "很新鲜", images=[png_bytes()], anonymous=True)
    assert review.rating == 4 and len(review.images) == 1
    with pytest.raises(Conflict), transaction():
        reviews.create(buyer.id, item_id, 5, "再评一次")
    db.session.expire_all()
    assert db.session.get(Order, order.id).to_review is False
    summary = reviews.summary(review.product_id)
    assert (summary.count, summary.average) == (1, 4.0)
    # the merchant replies once; another shop cannot
    with pytest.raises(NotFound), transaction():
        reviews.reply(order.merchant_id + 999, review.id, "谢谢")
    with transaction():
        reviews.reply(order.merchant_id, review.id, "感谢支持")
    with pytest.raises(Conflict), transaction():
        reviews.reply(order.merchant_id, review.id, "再回复")
    admin = make_user(admin_role="operator")
    with pytest.raises(ValidationError), transaction():
        reviews.set_visible(admin, review.id, False, "")
    with transaction():
        reviews.set_visible(admin, review.id, False, "辱骂内容")
    assert reviews.summary(review.product_id).count == 0


def test_someone_else_cannot_ship_confirm_or_review(paid_order, make_user, make_merchant):
    buyer, owner_id, order = paid_order()
    other_shop = make_merchant()
    with pytest.raises(NotFound), transaction():
        order_services.ship(owner_id, other_shop.id, order.order_no, "shunfeng", "SF1234567890")
    ship(owner_id, order)
    stranger = make_user()
    with pytest.raises(NotFound), transaction():
        order_services.confirm_receipt(stranger.id, order.order_no)
    with transaction():
        order_services.confirm_receipt(buyer.id, order.order_no)
    with pytest.raises(NotFound), transaction():
        reviews.create(stranger.id, order.items[0].id, 5, "")


@pytest.mark.parametrize(("carrier", "tracking_no"), [("nope", "SF1234567890"), ("shunfeng", "x"),
                                                      ("shunfeng", "")])
def test_ship_refuses_bad_carrier_or_tracking_number(paid_order, carrier, tracking_no):
    _buyer, owner_id, order = paid_order()
    with pytest.raises(ValidationError), transaction():
        order_services.ship(owner_id, order.merchant_id, order.order_no, carrier, tracking_no)
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "paid"


def test_bulk_ship_sheet_ships_good_rows_and_reports_bad_ones(paid_order):
    _b1, owner_id, first = paid_order()
    _b2, _owner2, foreign = paid_order()  # another shop's order
    sheet = (f"订单号,快递公司,运单号\n{first.order_no},顺丰速运,SF1000000001\n"
             f"{foreign.order_no},中通快递,ZT1000000002\n").encode()
    with transaction():
        report = shipping.ship_from_sheet(owner_id, first.merchant_id, sheet)
    assert report.shipped == [first.order_no]
    assert len(report.errors) == 1 and report.errors[0][0] == 3
    db.session.expire_all()
    assert db.session.get(Order, foreign.id).status == "paid"


def test_manual_tracking_event_and_buyer_list_tabs(paid_order):
    buyer, owner_id, order = paid_order()
    assert queries.buyer_counts(buyer.id)["to_ship"] == 1
    ship(owner_id, order)
    with transaction():
        shipping.add_manual_event(order.merchant_id, order.order_no, "已到达福州分拨中心", "福州")
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert [e.description for e in shipping.events_for(order)][0] == "已到达福州分拨中心"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrackingEvent)) == 2
    page = queries.for_buyer(buyer.id, "to_receive")
    assert [o.order_no for o in page.items] == [order.order_no]
    assert queries.for_buyer(buyer.id, "to_ship").total == 0


def test_merchant_search_by_order_number_phone_and_title(paid_order):
    buyer, _owner, order = paid_order()
    for q in (order.order_no, buyer.phone[-4:], order.items[0].title[-3:]):
        page = queries.for_merchant(order.merchant_id, queries.OrderFilters(q=q))
        assert [o.id for o in page.items] == [order.id], q
    assert queries.for_merchant(order.merchant_id + 999, queries.OrderFilters(q=order.order_no)).total == 0


def test_review_count_is_zero_without_reviews(make_product):
    assert reviews.summary(make_product().id).count == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Review)) == 0


def test_a_review_takes_at_most_six_images_and_stores_none_when_refused(paid_order, outbox):
    from pathlib import Path

    from flask import current_app

    buyer, owner_id, order = paid_order()
    ship(owner_id, order)
    with transaction():
        order_services.confirm_receipt(buyer.id, order.order_no)
    with pytest.raises(ValidationError) as caught, transaction():
        reviews.create(buyer.id, order.items[0].id, 5, "图多", images=[png_bytes()] * 7)
    assert caught.value.code == "too_many_images"
    assert not list(Path(current_app.config["UPLOAD_DIR"]).rglob("reviews/*"))
    with transaction():
        review = reviews.create(buyer.id, order.items[0].id, 5, "六张", images=[png_bytes()] * 6)
    assert len(review.images) == 6
