"""经常一起买 in Chromium against the live server: a tea shop's owner finds the page from
数据, recomputes the shop's rules with the button (jobs run inline here: the page reloads
with them) and sorts them over HTMX; the platform's operator recomputes every scope from
the admin page; a shopper sees the block on a product page, another shop's product
included. Screenshots of the three at 390 and 1440 px."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from app.core import settings
from app.core.db import transaction
from app.extensions import db
from app.payments import services as payments
from app.payments.models import Payment
from tests.browser.helpers import sign_in

pytestmark = pytest.mark.live_db

TEA = (("武夷山大红袍岩茶 特级 250g 礼盒装", 26800), ("白毫银针 明前头采 100g", 19900),
       ("手工粗陶茶杯 四只装", 5900), ("便携旅行茶具套装", 12800), ("加厚棉麻茶巾 两条装", 1900))


@pytest.fixture
def tea_baskets(make_user, make_merchant, make_product, make_address, place_order):
    """A tea shop (owner 13655552222) and a dried-goods shop, an operator (13655553333), and
    sixteen paid checkouts whose baskets pair the teas with cups and towels; two take a
    bag of dried squid along with the 大红袍. Returns the product ids by short name."""
    owner = make_user(phone="13655552222", nickname="茶舍店主")
    admin = make_user(phone="13655553333", nickname="运营", admin_role="super")
    tea = make_merchant(owner=owner, name="山野茶舍")
    other = make_merchant(name="海边渔家干货铺")
    products = {key: make_product(merchant=tea, title=title, price_fen=price, stocks=(200,))
                for key, (title, price) in zip(("red", "silver", "cup", "set", "towel"), TEA, strict=True)}
    products["squid"] = make_product(merchant=other, title="淡晒鱿鱼干 500g", price_fen=8800, stocks=(200,))
    ids = {key: p.id for key, p in products.items()}
    sku = {key: p.skus[0].id for key, p in products.items()}
    buyers = [(b, make_address(b)) for b in (make_user(), make_user(), make_user())]
    plan = [(("red", "cup"), 2), (("silver", "cup", "towel"), 2), (("silver", "cup"), 1), (("red", "towel"), 1),
            (("set", "towel"), 1), (("set",), 2), (("silver", "set"), 1), (("red",), 2), (("red", "squid"), 2),
            (("squid",), 1), (("cup", "set"), 1)]
    n = 0
    for keys, times in plan:
        for _ in range(times):
            buyer, address = buyers[n % len(buyers)]
            n += 1
            payment = place_order(buyer, [(sku[k], 1) for k in keys], address=address, key=uuid.uuid4().hex)
            with transaction():
                payments.apply_success(db.session.get(Payment, payment.id), "sandbox", f"SBT{uuid.uuid4().hex[:16]}")
    with transaction():
        for key, value in (("rules_min_baskets", 10), ("rules_min_support_bp", 1000),
                           ("rules_min_confidence_bp", 3000), ("rules_min_lift_pct", 110)):
            settings.put(key, value, admin)
    return ids


def test_the_shop_the_platform_and_a_shopper_see_what_is_bought_together(open_context, tea_baskets, snap):
    page = open_context().new_page()
    sign_in(page, "13655552222")
    page.goto("/merchant/stats")
    page.locator("#rules-link").click()
    expect(page).to_have_url(re.compile(r"/merchant/stats/rules$"))
    expect(page.locator('[data-empty="rules"]')).to_contain_text("还没有计算过")
    page.locator("#rules-recompute").click()
    # the job ran inline: the page reloads with the shop's six rules, each a bundle
    expect(page.locator(".rule-card")).to_have_count(6)
    expect(page.locator("#rules-run-figures")).to_contain_text("共 15 笔已付款订单，得到 6 条规则")
    first = page.locator(".rule-card").first
    expect(first).to_contain_text("白毫银针")
    expect(first).to_contain_text("可组成套餐")
    expect(first.locator("[data-bundle-total]")).to_have_text(re.compile(r"¥\s*258\s*\.00"))  # 199 + 59
    expect(page.locator("body")).not_to_contain_text("淡晒鱿鱼干")  # another shop's product
    snap(page, "merchant-rules")
    page.get_by_role("link", name="按置信度").click()
    expect(page).to_have_url(re.compile(r"/merchant/stats/rules\?sort=confidence$"))
    expect(page.get_by_role("link", name="按置信度")).to_have_attribute("aria-current", "true")
    expect(page.locator(".rule-card").first.locator("[data-confidence]")).to_have_text("75.00%")

    admin = open_context().new_page()
    sign_in(admin, "13655553333")
    admin.goto("/admin/stats")
    admin.locator("#rules-link").click()
    expect(admin).to_have_url(re.compile(r"/admin/stats/rules$"))
    admin.locator("#rules-recompute").click()
    expect(admin.locator("tr.rule-row")).to_have_count(7)
    expect(admin.locator("#rules-run-figures")).to_contain_text("共 16 次付款")
    squid = admin.locator("tr.rule-row", has_text="淡晒鱿鱼干")
    expect(squid).to_contain_text("海边渔家干货铺")
    expect(squid).to_contain_text("山野茶舍")
    snap(admin, "admin-rules")

    shopper = open_context().new_page()
    shopper.goto(f"/products/{tea_baskets['towel']}")
    block = shopper.locator("#bought-together")
    expect(block.get_by_role("heading", name="经常一起买")).to_be_visible()
    expect(block.locator(".product-card")).to_have_count(2)
    expect(block.locator(".product-card").first).to_contain_text("白毫银针")
    snap(shopper, "product-together")
    shopper.goto(f"/products/{tea_baskets['squid']}")  # another shop's tea, bought in the same checkout
    expect(shopper.locator("#bought-together .product-card")).to_contain_text(["武夷山大红袍"])
    shopper.goto(f"/products/{tea_baskets['red']}")
    expect(shopper.locator("#bought-together")).to_have_count(0)
