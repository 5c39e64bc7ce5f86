"""The merchant dashboard's figures: real orders of two shops, each owner sees
only their own; Shanghai days; a fixed number of queries whatever the shop's size."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.analytics import shop_figures
from app.core.clock import travel
from app.core.db import transaction
from app.extensions import db
from app.orders import reviews
from app.orders import services as order_services
from app.orders.models import Order
from tests.web.helpers import text


@pytest.fixture
def sell(make_user, place_order, pay_sandbox):
    """`sell(product, paid=True, quantity=1)` -> the Order a new buyer placed (and paid)."""

    def make(product, paid=True, quantity=1):
        buyer = make_user()
        payment = place_order(buyer, [(product.skus[0].id, quantity)])
        if paid:
            assert pay_sandbox(payment).status_code == 200
        db.session.expire_all()
        order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))
        order.buyer_id_ = buyer.id
        return order

    return make


def figure(html: str, label: str) -> str:
    """The number on the card labelled `label`."""
    match = re.search(re.escape(label) + r'</div>\s*<div class="kpi-value[^"]*">(.*?)</div>', html, re.S)
    assert match, label
    return re.sub(r"<[^>]+>|\s", "", match.group(1))


def test_each_shop_sees_its_own_real_figures(app, make_user, make_merchant, make_product, login, sell):
    owner_a, owner_b = make_user(), make_user()
    shop_a, shop_b = make_merchant(owner=owner_a), make_merchant(owner=owner_b)
    tea = make_product(merchant=shop_a, title="岩茶", price_fen=12000, stocks=(50,))
    cups = make_product(merchant=shop_a, title="茶杯", price_fen=3000, stocks=(4,), threshold=5)  # low stock
    make_product(merchant=shop_a, status="off_sale")
    make_product(merchant=shop_a, status="pending_review")
    rice = make_product(merchant=shop_b, title="大米", price_fen=5000, stocks=(100,))

    with travel(timedelta(days=-1)):
        yesterday = sell(tea)  # paid yesterday
    shipped = sell(tea, quantity=2)
    with transaction():
        order_services.ship(owner_a.id, shop_a.id, shipped.order_no, "shunfeng", "SF1234567890")
    with transaction():
        order_services.confirm_receipt(shipped.buyer_id_, shipped.order_no)
    with transaction():
        reviews.create(shipped.buyer_id_, shipped.items[0].id, 5, "好喝")
    waiting = sell(cups)  # paid today, waiting to be shipped (as is yesterday's)
    sell(tea, paid=False)  # placed, not paid: not a payment
    other = sell(rice, quantity=3)  # the other shop's

    a = shop_figures.for_merchant(shop_a.id)
    assert a == shop_figures.ShopFigures(
        on_sale=2, paid_orders_today=2, paid_fen_today=shipped.amount_fen + waiting.amount_fen,
        paid_orders_yesterday=1, paid_fen_yesterday=yesterday.amount_fen, to_ship=2, low_stock_skus=1,
        unreplied_reviews=1)
    assert shipped.amount_fen >= 24000 and waiting.amount_fen >= 3000
    assert shop_figures.for_merchant(shop_b.id) == shop_figures.ShopFigures(
        on_sale=1, paid_orders_today=1, paid_fen_today=other.amount_fen, paid_orders_yesterday=0,
        paid_fen_yesterday=0, to_ship=1, low_stock_skus=0, unreplied_reviews=0)

    html_a = text(login(owner_a, on=app.test_client()).get("/merchant/"))
    html_b = text(login(owner_b, on=app.test_client()).get("/merchant/"))
    assert "功能上线后" not in html_a
    assert figure(html_a, "今日付款订单") == "2" and figure(html_b, "今日付款订单") == "1"
    assert figure(html_a, "待发货") == "2" and figure(html_a, "在售商品") == "2"
    assert figure(html_a, "库存预警") == "1" and figure(html_b, "库存预警") == "0"
    assert figure(html_a, "待回复评价") == "1" and figure(html_b, "待回复评价") == "0"
    assert figure(html_a, "今日付款金额") == f"¥{a.paid_fen_today // 100}.{a.paid_fen_today % 100:02d}"
    assert "昨日 1" in html_a and "昨日 0" in html_b
    assert 'href="/merchant/orders?status=paid"' in html_a and 'href="/merchant/inventory?filter=low"' in html_a
    assert 'href="/merchant/reviews?filter=unreplied"' in html_a


def test_days_are_shanghai_days(make_user, make_merchant, make_product, sell):
    shop = make_merchant()
    tea = make_product(merchant=shop, stocks=(50,))
    order = sell(tea)
    # 23:30 in Shanghai yesterday is 15:30 UTC: yesterday for the shop, though the same UTC date as 16:30 UTC.
    now_local_midnight = shop_figures.start_of_day()
    late_yesterday = now_local_midnight - timedelta(minutes=30)
    with transaction():
        db.session.execute(sa.update(Order).where(Order.id == order.id).values(paid_at=late_yesterday))
    figures = shop_figures.for_merchant(shop.id)
    assert (figures.paid_orders_today, figures.paid_orders_yesterday) == (0, 1)
    early_today = now_local_midnight + timedelta(minutes=30)
    with transaction():
        db.session.execute(sa.update(Order).where(Order.id == order.id).values(paid_at=early_today))
    assert shop_figures.for_merchant(shop.id, now=early_today + timedelta(minutes=1)).paid_orders_today == 1
    # the start of a Shanghai day is 16:00 UTC of the day before
    assert shop_figures.start_of_day(datetime(2026, 3, 1, 17, 0, tzinfo=UTC)).astimezone(UTC) == \
        datetime(2026, 3, 1, 16, 0, tzinfo=UTC)


def test_dashboard_runs_a_fixed_number_of_queries(app, make_user, make_merchant, make_product, login, sell,
                                                  count_queries):
    owner = make_user()
    shop = make_merchant(owner=owner)
    tea = make_product(merchant=shop, stocks=(50,))
    client = login(owner, on=app.test_client())
    sell(tea)
    with count_queries() as few:
        client.get("/merchant/")
    for _ in range(4):
        sell(make_product(merchant=shop, stocks=(2,)))
    with count_queries() as many:
        assert client.get("/merchant/").status_code == 200
    assert len(many) == len(few)
