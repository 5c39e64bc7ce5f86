"""Sales figures from the rollups, checked exactly on hand-made orders: Shanghai day
boundaries (a payment at 23:30 and one at 00:10 fall on different days though both are
the same UTC date), AOV, refunds on the day they were confirmed, paying / new / returning
buyers, provinces and hours; a rebuild gives the same rows; the merchant stats API sees
its own shop only and refuses bad ranges."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.aftersales import platform
from app.analytics import figures, rollups
from app.analytics.models import BuyerDay, FirstPurchase, HourSales, ProductDay, ProvinceSales, SalesDay
from app.core.clock import SHANGHAI, travel
from app.core.db import transaction
from app.extensions import db
from app.merchants import api_keys
from app.merchants.models import MerchantMember
from app.orders import services as order_services
from app.orders.models import Order


@contextmanager
def at(moment: datetime):
    """The app's clock reads `moment` (UTC) inside the block."""
    with travel(moment - datetime.now(UTC)):
        yield


def shanghai(y, m, d, hh, mm) -> datetime:
    """A Shanghai wall-clock time, as UTC."""
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def shop_sales(make_user, make_merchant, make_product, make_address, place_order, pay_sandbox, run_jobs):
    """Two shops and their orders, paid at chosen moments; returns what the test needs."""
    shop = make_merchant(shipping_flat_fen=800)
    other = make_merchant()
    mug = make_product(merchant=shop, price_fen=9900, stocks=(50,))
    cup = make_product(merchant=shop, price_fen=2500, stocks=(50,))
    elsewhere = make_product(merchant=other, price_fen=100000, stocks=(50,))
    loyal, newcomer = make_user(), make_user()
    loyal_home = make_address(loyal, province="浙江省", province_code="330000", city="杭州市", city_code="330100",
                              district="西湖区", district_code="330106")
    newcomer_home = make_address(newcomer)  # 福建省

    def buy(buyer, address, lines, moment) -> Order:
        with at(moment):
            payment = place_order(buyer, lines, address=address)
            payment_id = payment.id
            assert pay_sandbox(payment).status_code == 200
        db.session.expire_all()
        return db.session.scalar(sa.select(Order).where(Order.payment_id == payment_id, Order.merchant_id == shop.id)) \
            or db.session.scalar(sa.select(Order).where(Order.payment_id == payment_id))

    # a purchase long before: the loyal buyer is a returning one in December
    buy(loyal, loyal_home, [(cup.skus[0].id, 1)], shanghai(2026, 11, 2, 10, 0))
    # 23:30 on 5 December and 00:10 on 6 December, Shanghai time: both 5 December in UTC
    late = buy(loyal, loyal_home, [(mug.skus[0].id, 2)], shanghai(2026, 12, 5, 23, 30))
    early = buy(newcomer, newcomer_home, [(mug.skus[0].id, 1), (cup.skus[0].id, 2)], shanghai(2026, 12, 6, 0, 10))
    buy(newcomer, newcomer_home, [(elsewhere.skus[0].id, 1)], shanghai(2026, 12, 6, 9, 0))  # another shop
    # one of the two mugs of the 23:30 order is refunded, confirmed at 10:00 on 7 December
    admin = make_user(admin_role="super")
    with at(shanghai(2026, 12, 7, 10, 0)):
        with transaction():
            platform.cancel_and_refund(admin, late.order_no, [(late.items[0].id, 1)], "缺货补偿退款")
        run_jobs()
    return {"shop": shop, "other": other, "late": late, "early": early, "mug": mug, "cup": cup}


def test_the_shanghai_day_decides_where_an_order_counts(shop_sales):
    shop = shop_sales["shop"].id
    assert figures.for_days(date(2026, 12, 5), date(2026, 12, 5), shop) == figures.Figures(
        paid_orders=1, units=2, gmv_fen=2 * 9900 + 800, refund_fen=0, paying_buyers=1, new_buyers=0)
    assert figures.for_days(date(2026, 12, 6), date(2026, 12, 6), shop) == figures.Figures(
        paid_orders=1, units=3, gmv_fen=9900 + 2 * 2500 + 800, refund_fen=0, paying_buyers=1, new_buyers=1)
    refunded_day = figures.for_days(date(2026, 12, 7), date(2026, 12, 7), shop)
    assert (refunded_day.paid_orders, refunded_day.refund_fen, refunded_day.net_fen) == (0, 9900, -9900)


def test_a_range_adds_up_with_aov_and_returning_buyers(shop_sales):
    week = figures.for_days(date(2026, 12, 1), date(2026, 12, 7), shop_sales["shop"].id)
    gmv = (2 * 9900 + 800) + (9900 + 2 * 2500 + 800)
    assert (week.paid_orders, week.units, week.gmv_fen, week.refund_fen) == (2, 5, gmv, 9900)
    assert week.aov_fen == gmv // 2 and week.net_fen == gmv - 9900
    assert (week.paying_buyers, week.new_buyers, week.returning_buyers) == (2, 1, 1)
    platform_week = figures.for_days(date(2026, 12, 1), date(2026, 12, 7))
    assert platform_week.paid_orders == 3 and platform_week.gmv_fen == gmv + 100000
    # on the platform the newcomer is new once, though they paid two shops
    assert (platform_week.paying_buyers, platform_week.new_buyers) == (2, 1)


def test_compare_gives_the_period_before_and_the_change(shop_sales):
    both = figures.compare(date(2026, 12, 6), date(2026, 12, 6), shop_sales["shop"].id)
    assert both.previous.paid_orders == 1 and both.current.paid_orders == 1
    assert both.change("gmv_fen") == pytest.approx((15700 - 20600) / 20600)
    assert figures.compare(date(2026, 11, 1), date(2026, 11, 1), shop_sales["shop"].id).change("gmv_fen") is None


def test_products_provinces_and_hours(shop_sales):
    shop = shop_sales["shop"].id
    units = dict(db.session.execute(sa.select(ProductDay.product_id, sa.func.sum(ProductDay.units))
                                    .where(ProductDay.merchant_id == shop).group_by(ProductDay.product_id)).all())
    assert units == {shop_sales["mug"].id: 3, shop_sales["cup"].id: 3}
    hours = set(db.session.execute(sa.select(HourSales.day, HourSales.hour, HourSales.paid_orders)
                                   .where(HourSales.scope_id == shop)).all())
    assert hours == {(date(2026, 11, 2), 10, 1), (date(2026, 12, 5), 23, 1), (date(2026, 12, 6), 0, 1)}
    provinces = set(db.session.execute(sa.select(ProvinceSales.day, ProvinceSales.province, ProvinceSales.paid_orders,
                                                 ProvinceSales.gmv_fen).where(ProvinceSales.scope_id == shop)).all())
    assert provinces == {(date(2026, 11, 2), "浙江省", 1, 2500 + 800), (date(2026, 12, 5), "浙江省", 1, 2 * 9900 + 800),
                         (date(2026, 12, 6), "福建省", 1, 9900 + 2 * 2500 + 800)}
    # the platform's own rows wait for their day to settle: no payment shares a row with another shop's
    assert not db.session.scalars(sa.select(HourSales).where(HourSales.scope_id == 0)).all()
    # a second order of the mug on 6 December adds to its row and leaves the row's shop alone
    mug_day = db.session.get(ProductDay, (shop_sales["mug"].id, date(2026, 12, 6)))
    with transaction():
        rollups.add_paid_order(shop_sales["early"])
    db.session.refresh(mug_day)
    assert (mug_day.units, mug_day.merchant_id) == (2, shop)


def test_a_rebuild_gives_the_same_rows(shop_sales):
    def snapshot():
        db.session.expire_all()
        return {model.__name__: sorted(tuple(getattr(row, c.key) for c in sa.inspect(model).columns)
                                       for row in db.session.scalars(sa.select(model)))
                for model in (SalesDay, BuyerDay, FirstPurchase, ProductDay, HourSales, ProvinceSales)}

    before = snapshot()
    with transaction():
        assert rollups.rebuild(batch=2) == (4, 1)
    assert snapshot() == before


def test_a_cancelled_orders_refund_is_not_a_sale_given_back(make_user, make_product, place_order, pay_sandbox,
                                                           run_jobs):
    product = make_product(price_fen=5000)
    buyer = make_user()
    payment = place_order(buyer, [(product.skus[0].id, 1)])
    order = payment.orders[0]
    with transaction():
        order_services.cancel_by_buyer(buyer.id, order.order_no)
    assert pay_sandbox(payment).status_code == 200  # the money arrives after the cancel: it goes back
    run_jobs()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SalesDay)) == 0


def test_the_merchant_stats_api_answers_for_its_own_shop(shop_sales, client):
    owner = db.session.scalar(sa.select(User).join(MerchantMember, MerchantMember.user_id == User.id)
                              .where(MerchantMember.merchant_id == shop_sales["shop"].id))
    with transaction():
        _row, key = api_keys.create_key(owner, shop_sales["shop"].id, "ERP")
    headers = {"X-Api-Key": key}
    body = client.get("/api/v1/merchant/stats?from=2026-12-05&to=2026-12-07", headers=headers).json
    gmv = 20600 + 15700
    assert body == {"paid_orders": 2, "units": 5, "gmv_fen": gmv, "refund_fen": 9900, "aov_fen": gmv // 2,
                    "paying_buyers": 2}
    for query in ("from=2026-12-07&to=2026-12-05", "from=2026-12-05", "from=2026-13-01&to=2026-12-05",
                  "from=2025-01-01&to=2026-12-05"):
        refused = client.get(f"/api/v1/merchant/stats?{query}", headers=headers)
        assert refused.status_code == 422 and refused.json["error"]["code"] == "invalid", query
    assert client.get("/api/v1/merchant/stats?from=2026-12-05&to=2026-12-07").status_code == 401
    # the key names its shop: there is nothing to ask for another one's figures with
    other = client.get(f"/api/v1/merchant/stats?from=2026-12-05&to=2026-12-07&merchant_id={shop_sales['other'].id}",
                       headers=headers).json
    assert other == body


def test_series_and_rankings_for_the_charts(shop_sales):
    shop = shop_sales["shop"].id
    days = figures.daily(date(2026, 12, 4), date(2026, 12, 7), shop)
    assert [(d["day"].day, d["paid_orders"], d["gmv_fen"], d["refund_fen"]) for d in days] == [
        (4, 0, 0, 0), (5, 1, 20600, 0), (6, 1, 15700, 0), (7, 0, 0, 9900)]
    by_units = figures.top_products(date(2026, 12, 1), date(2026, 12, 7), shop)
    assert [(p["product_id"], p["units"]) for p in by_units] == sorted(
        [(shop_sales["mug"].id, 3), (shop_sales["cup"].id, 2)], key=lambda p: -p[1])
    by_revenue = figures.top_products(date(2026, 12, 1), date(2026, 12, 7), shop, by="revenue_fen")
    assert [p["revenue_fen"] for p in by_revenue] == [3 * 9900, 2 * 2500]
    shops = figures.top_merchants(date(2026, 12, 1), date(2026, 12, 7))
    assert [(m["merchant_id"], m["gmv_fen"]) for m in shops] == [(shop_sales["other"].id, 100000), (shop, 36300)]
    assert sum(m["share"] for m in shops) == pytest.approx(1.0)
    assert figures.provinces(date(2026, 11, 1), date(2026, 12, 7), shop) == [
        {"province": "浙江省", "paid_orders": 2, "gmv_fen": 20600 + 2500 + 800},
        {"province": "福建省", "paid_orders": 1, "gmv_fen": 15700}]
    times = figures.purchase_times(date(2026, 11, 1), date(2026, 12, 7), shop)
    # 5 December 2026 is a Saturday (5), 6 December a Sunday (6), 2 November a Monday (0)
    assert times["weekday_hour"][5][23] == 1 and times["weekday_hour"][6][0] == 1 and times["weekday_hour"][0][10] == 1
    assert sum(map(sum, times["weekday_hour"])) == 3
    assert times["month_day"][4] == 1 and times["month_day"][5] == 1 and times["month_day"][1] == 1
