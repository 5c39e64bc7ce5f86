"""Each report type's rows, checked exactly on hand-made sales (`shop_sales` of
test_figures: two shops, a payment at 23:30 and one at 00:10 Shanghai time, a platform
refund of one mug confirmed on 7 December), read through the types' own chunked readers:
Shanghai day boundaries, money in fen for the writers, buyers and distributors masked,
a shop's report holding its own rows only, and chunks of any size giving the same rows."""
from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.aftersales.models import AfterSale
from app.analytics.reports import registry
from app.analytics.reports.people import masked_name, masked_phone, person
from app.analytics.reports.registry import Scope, Window
from app.core.db import transaction
from app.distribution import referrals
from app.distribution.models import Commission
from app.extensions import db
from tests.analytics.test_figures import at, shanghai

DEC = date(2026, 12, 1), date(2026, 12, 7)


def rows_of(key: str, first: date, last: date, merchant_id: int | None = None, size: int = 500) -> list[tuple]:
    report = registry.REPORTS[key]
    window = Window(first, last, merchant_id)
    rows = [row for chunk in report.chunks(window, size) for row in chunk]
    assert report.count(window) == len(rows), key
    assert all(len(row) == len(report.columns) for row in rows)
    return rows


def minutes(row_time: datetime | None) -> str | None:
    return row_time.strftime("%Y-%m-%d %H:%M") if row_time else None


def buyer_cells(user: User) -> tuple[str, str]:
    digits = user.phone[3:]
    return user.nickname[0] + "**", f"{digits[:3]}****{digits[-4:]}"


def test_the_types_and_who_may_have_them():
    assert [r.key for r in registry.allowed(None)] == ["orders", "products", "daily", "aftersales", "shops",
                                                       "commissions"]
    assert [r.key for r in registry.allowed(7)] == ["orders", "products", "daily", "aftersales"]
    assert registry.find("shops", 7) is None and registry.find("commissions", 7) is None
    assert registry.find("shops", None).scopes == frozenset({Scope.PLATFORM})
    assert registry.find("nope", None) is None and registry.find(None, 7) is None


def test_order_details_one_row_per_order_on_its_shanghai_day(shop_sales):
    shop, late, early = shop_sales["shop"], shop_sales["late"], shop_sales["early"]
    loyal, newcomer = db.session.get(User, late.buyer_id), db.session.get(User, early.buyer_id)
    rows = rows_of("orders", *DEC, shop.id)
    assert [row[0] for row in rows] == [late.order_no, early.order_no]
    first, second = rows
    assert minutes(first[1]) == minutes(first[2]) == "2026-12-05 23:30"  # placed and paid, Shanghai time
    assert first[3:] == (shop.name, *buyer_cells(loyal), "待发货", 2, 19800, 800, 0, 20600, 9900, "浙江省")
    assert minutes(second[1]) == "2026-12-06 00:10"
    assert second[3:] == (shop.name, *buyer_cells(newcomer), "待发货", 3, 9900 + 5000, 800, 0, 15700, 0, "福建省")
    # both are 5 December in UTC; each lands on its own Shanghai day
    assert [r[0] for r in rows_of("orders", date(2026, 12, 5), date(2026, 12, 5), shop.id)] == [late.order_no]
    assert [r[0] for r in rows_of("orders", date(2026, 12, 6), date(2026, 12, 6), shop.id)] == [early.order_no]
    # no phone number whole anywhere in the rows
    assert not any(loyal.phone[3:] in str(cell) or newcomer.phone[3:] in str(cell) for row in rows for cell in row)


def test_a_shops_report_has_its_own_rows_and_the_platforms_has_all(shop_sales):
    other_rows = rows_of("orders", *DEC, shop_sales["other"].id)
    assert [(r[3], r[11]) for r in other_rows] == [(shop_sales["other"].name, 100000)]
    platform = rows_of("orders", *DEC)
    assert len(platform) == 3 and {r[3] for r in platform} == {shop_sales["shop"].name, shop_sales["other"].name}
    assert rows_of("orders", date(2026, 11, 1), date(2026, 11, 30), shop_sales["other"].id) == []


def test_an_unpaid_order_was_paid_nothing(shop_sales, make_user, place_order):
    buyer = make_user()
    with at(shanghai(2026, 12, 7, 8, 0)):
        place_order(buyer, [(shop_sales["cup"].skus[0].id, 1)])
    row = rows_of("orders", date(2026, 12, 7), date(2026, 12, 7), shop_sales["shop"].id)[0]
    assert (row[2], row[6], row[8], row[11]) == (None, "待付款", 2500, 0)


def test_product_sales_from_the_rollups(shop_sales):
    mug, cup = shop_sales["mug"], shop_sales["cup"]
    shop = shop_sales["shop"]
    assert rows_of("products", *DEC, shop.id) == [
        (mug.id, mug.title, shop.name, 3, 29700, 9900),
        (cup.id, cup.title, shop.name, 2, 5000, 2500)]
    everything = rows_of("products", date(2026, 11, 1), date(2026, 12, 7))
    assert [(r[0], r[3], r[4]) for r in everything] == sorted([
        (mug.id, 3, 29700), (cup.id, 3, 7500), (everything[-1][0], 1, 100000)])
    assert everything[-1][2] == shop_sales["other"].name
    # 6 December alone: the 00:10 order, not the 23:30 one
    assert [(r[0], r[3]) for r in rows_of("products", date(2026, 12, 6), date(2026, 12, 6), shop.id)] == [
        (mug.id, 1), (cup.id, 2)]


def test_daily_sales_every_day_with_refunds_net_and_aov(shop_sales):
    assert rows_of("daily", date(2026, 12, 4), date(2026, 12, 7), shop_sales["shop"].id) == [
        (date(2026, 12, 4), 0, 0, 0, 0, 0, None),
        (date(2026, 12, 5), 1, 2, 20600, 0, 20600, 20600),
        (date(2026, 12, 6), 1, 3, 15700, 0, 15700, 15700),
        (date(2026, 12, 7), 0, 0, 0, 9900, -9900, None)]
    platform = rows_of("daily", date(2026, 12, 6), date(2026, 12, 6))
    assert platform == [(date(2026, 12, 6), 2, 4, 115700, 0, 115700, 57850)]


def test_the_shops_ranking_with_shares(shop_sales):
    shop, other = shop_sales["shop"], shop_sales["other"]
    rows = rows_of("shops", *DEC)
    assert [r[:7] for r in rows] == [(1, other.id, other.name, 1, 1, 100000, 0),
                                     (2, shop.id, shop.name, 2, 5, 36300, 9900)]
    assert rows[0][7] == pytest.approx(100000 / 136300) and rows[1][7] == pytest.approx(36300 / 136300)
    assert rows_of("shops", *DEC, size=1) == rows  # page by page, after the last (GMV, shop) seen


def test_aftersale_details(shop_sales):
    late = shop_sales["late"]
    loyal = db.session.get(User, late.buyer_id)
    request = db.session.scalar(sa.select(AfterSale).where(AfterSale.order_id == late.id))
    rows = rows_of("aftersales", *DEC, shop_sales["shop"].id)
    assert len(rows) == 1
    row = rows[0]
    assert row[:2] == (request.aftersale_no, late.order_no) and minutes(row[2]) == "2026-12-07 10:00"
    assert row[3:] == (shop_sales["shop"].name, *buyer_cells(loyal), "仅退款", "缺货补偿退款",
                       f"{shop_sales['mug'].title}（款0）× 1", 1, "已退款", 9900, 0, 9900, row[14])
    assert minutes(row[14]) == "2026-12-07 10:00"
    assert rows_of("aftersales", *DEC, shop_sales["other"].id) == []
    assert rows_of("aftersales", date(2026, 12, 1), date(2026, 12, 6)) == []  # applied on the 7th


@pytest.fixture
def commission_sale(set_rules, make_distributor, make_user, make_product, place_order, pay_sandbox):
    set_rules(levels="2")
    top = make_distributor(nickname="李大爷")
    near = make_distributor(parent=top, nickname="王小二")
    buyer = make_user()
    with transaction():
        referrals.bind(buyer, near.code, "link", is_new_user=True)
    product = make_product(price_fen=10000, title="高山云雾茶")
    with at(shanghai(2026, 12, 3, 0, 5)):
        payment = place_order(buyer, [(product.skus[0].id, 2)])
        assert pay_sandbox(payment).status_code == 200
    db.session.expire_all()
    return {"top": top, "near": near, "product": product, "order": payment.orders[0]}


def test_commission_details_with_distributors_masked(commission_sale):
    near, top = commission_sale["near"], commission_sale["top"]
    rows = rows_of("commissions", *DEC)
    assert [r[3] for r in rows] == ["一级", "二级"]
    order = commission_sale["order"]
    shop_name = order.merchant.name
    for row, who, rate, amount in ((rows[0], near, 0.10, 2000), (rows[1], top, 0.05, 1000)):
        user = db.session.get(User, who.user_id)
        digits = user.phone[3:]
        assert row[:3] == (order.order_no, shop_name, "高山云雾茶")
        assert row[4:12] == (who.code, user.nickname[0] + "**", f"{digits[:3]}****{digits[-4:]}", 20000, rate, amount,
                             0, "待结算")
        assert minutes(row[12]) == "2026-12-03 00:05" and row[13] is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Commission)) == 2
    assert rows_of("commissions", date(2026, 12, 2), date(2026, 12, 2)) == []  # 2 December in UTC, the 3rd here


@pytest.mark.parametrize("size", [1, 2, 3])
def test_any_chunk_size_gives_the_same_rows(shop_sales, size):
    for key in ("orders", "products", "daily", "aftersales", "shops"):
        assert rows_of(key, date(2026, 11, 1), date(2026, 12, 7), size=size) == rows_of(
            key, date(2026, 11, 1), date(2026, 12, 7)), key


def test_people_are_masked():
    assert masked_name("张三丰") == "张**" and masked_name("") == "" and masked_name(None) == ""
    assert masked_phone("+8613800138000") == "138****8000" and masked_phone(None) == ""
    assert person("张三", "+8613800138000", "deleted") == ("已注销用户", "")
