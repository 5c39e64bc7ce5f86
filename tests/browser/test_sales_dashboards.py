"""Both sales dashboards in Chromium against the live server: a shop's 数据 page and the
platform's 销售数据 page over a month of sales (several days, hours, provinces and
products), the range picker swapping the body over HTMX (the address bar follows), every
chart drawn; screenshots of both at 390 and 1440 px."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from app.accounts.models import Address, User
from app.core.clock import travel
from app.extensions import db
from tests.browser.helpers import sign_in

pytestmark = pytest.mark.live_db

PROVINCES = (("浙江省", "330000", "杭州市", "330100", "西湖区", "330106"),
             ("广东省", "440000", "广州市", "440100", "天河区", "440106"),
             ("福建省", "350000", "福州市", "350100", "鼓楼区", "350102"))


@pytest.fixture
def month_of_sales(make_user, make_merchant, make_product, make_address, place_order, pay_sandbox):
    """A tea shop (owner 13655552222) and a second shop, a super admin (13655553333), and
    orders paid over the last three weeks at different hours, to three provinces."""
    owner = make_user(phone="13655552222", nickname="茶舍店主")
    make_user(phone="13655553333", nickname="运营", admin_role="super")
    tea = make_merchant(owner=owner, name="山野茶舍", shipping_flat_fen=800)
    other = make_merchant(name="海边渔家干货铺")
    products = [make_product(merchant=tea, title=title, price_fen=price, stocks=(200,)).skus[0].id
                for title, price in (("武夷山大红袍岩茶 特级 250g 礼盒装", 26800), ("白毫银针 明前头采 100g", 19900),
                                     ("手工粗陶茶杯 四只装", 5900), ("便携旅行茶具套装", 12800))]
    dried = make_product(merchant=other, title="淡晒鱿鱼干 500g", price_fen=8800, stocks=(200,)).skus[0].id
    buyers = []
    for province in PROVINCES:
        buyer = make_user()
        fields = dict(zip(("province", "province_code", "city", "city_code", "district", "district_code"), province,
                          strict=True))
        buyers.append((buyer.id, make_address(buyer, **fields).id))
    plan = [(1, 9, 0, 1), (1, 20, 1, 2), (2, 21, 2, 0), (3, 12, 0, 3), (4, 22, 1, 1), (5, 10, 2, 2), (6, 20, 0, 0),
            (8, 15, 1, 3), (10, 21, 2, 1), (13, 11, 0, 0), (16, 19, 1, 2), (20, 23, 2, 0)]
    for days_ago, hour, who, product in plan:
        buyer, address = (db.session.get(model, key) for model, key in zip((User, Address), buyers[who], strict=True))
        moment = timedelta(days=-days_ago, hours=hour - 12)
        with travel(moment):
            lines = [(products[product], 1 + days_ago % 2)] + ([(dried, 1)] if days_ago % 3 == 0 else [])
            payment = place_order(buyer, lines, address=address, key=uuid.uuid4().hex)
            assert pay_sandbox(payment).status_code == 200


def charts_drawn(page: Page) -> None:
    expect(page.locator("[data-stats-chart]").first).to_be_visible()
    expect(page.locator("[data-stats-chart]:not([data-drawn])")).to_have_count(0)


def test_the_shop_and_the_platform_see_their_sales(open_context, month_of_sales, snap):
    page = open_context().new_page()
    sign_in(page, "13655552222")
    page.goto("/merchant/stats?range=30d")
    expect(page.get_by_role("heading", name="数据")).to_be_visible()
    expect(page.locator('[data-tile="paid_orders"] .kpi-value')).to_have_text("12")
    charts_drawn(page)
    expect(page.locator("[data-stats-chart]")).to_have_count(7)
    expect(page.locator("[data-stats-chart=map][data-drawn]")).to_have_count(1)  # the outlines came and the map drew
    expect(page.locator("#province-ranking tbody tr")).to_have_count(3)
    # a preset swaps the body over HTMX and the address bar follows
    page.get_by_role("link", name="近 7 天").click()
    expect(page).to_have_url(re.compile(r"/merchant/stats\?range=7d$"))
    expect(page.get_by_role("link", name="近 7 天")).to_have_attribute("aria-current", "true")
    expect(page.locator('[data-tile="paid_orders"] .kpi-value')).not_to_have_text("12")  # fewer than in 30 days
    charts_drawn(page)
    # a custom range, reversed: the notice, and the last 7 days instead
    page.locator("#stats-from").fill("2026-12-05")
    page.locator("#stats-to").fill("2026-12-01")
    page.get_by_role("button", name="自定义查询").click()
    expect(page.locator(".stats-notice")).to_contain_text("结束日期不能早于开始日期")
    page.goto("/merchant/stats?range=30d")
    charts_drawn(page)
    snap(page, "merchant-stats")

    admin = open_context().new_page()
    sign_in(admin, "13655553333")
    admin.goto("/admin/")
    admin.locator("#stats-link").click()
    expect(admin).to_have_url(re.compile(r"/admin/stats$"))
    admin.get_by_role("link", name="近 30 天").click()
    expect(admin).to_have_url(re.compile(r"/admin/stats\?range=30d$"))
    charts_drawn(admin)
    expect(admin.locator("[data-stats-chart]")).to_have_count(8)
    expect(admin.locator("#merchant-ranking tbody tr")).to_have_count(2)
    expect(admin.locator("#merchant-ranking tbody tr").first).to_contain_text("山野茶舍")
    snap(admin, "admin-stats")
