"""An order from two shops to a review, in Chromium against the live server.

A shopper adds products of two shops to the cart, checks out once, pays in the
sandbox gateway (a real signed server-to-server notification to the live server),
both merchants ship from their consoles, the shopper follows the tracking, a
merchant adds a tracking step by hand, the shopper confirms receipt and reviews
the item, and the review shows on the product page.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP
from tests.browser.helpers import confirm, sign_in

pytestmark = pytest.mark.live_db


def add_to_cart(page: Page, product_id: int) -> None:
    page.goto(f"/products/{product_id}")
    page.locator(".action-buttons").get_by_role("button", name="加入购物车").click()
    sheet = page.locator("#spec-sheet")
    expect(sheet).to_be_visible()
    with page.expect_response(re.compile(r"/cart/add")):
        sheet.get_by_role("button", name="加入购物车").click()
    expect(page.locator("#toasts .toast", has_text="已加入购物车")).to_be_visible()


def ship(page: Page, order_no: str, tracking_no: str) -> None:
    page.goto("/merchant/orders")
    page.get_by_role("link", name=order_no).first.click()
    expect(page.locator("#ship-panel")).to_be_visible()
    page.locator("#ship-panel select[name=carrier]").select_option("zhongtong")
    page.locator("#ship-panel input[name=tracking_no]").fill(tracking_no)
    page.locator("#ship-panel").get_by_role("button", name="确认发货").click()
    expect(page.locator("main")).to_contain_text(tracking_no)
    expect(page.locator("main")).to_contain_text("已发货")


def test_two_shops_one_checkout_sandbox_pay_ship_track_confirm_review(
        open_context, make_user, make_merchant, make_product, make_address, snap):
    fruit_owner = make_user(phone="13655560001", nickname="果园老板")
    tea_owner = make_user(phone="13655560002", nickname="茶庄老板")
    fruit = make_product(merchant=make_merchant(owner=fruit_owner, name="山间果园", shipping_flat_fen=600),
                         title="赣南脐橙 5斤装", stocks=(20,), price_fen=3990)
    tea = make_product(merchant=make_merchant(owner=tea_owner, name="老茶庄"), title="明前龙井 100g",
                       stocks=(8,), price_fen=12800)
    buyer = make_user(phone="13655560003", nickname="爱喝茶的小林")
    make_address(buyer, recipient="林小姐", phone="13655560003")

    shopper = open_context().new_page()
    sign_in(shopper, "13655560003")

    # --- two shops in one cart, one checkout -------------------------------------------
    add_to_cart(shopper, fruit.id)
    add_to_cart(shopper, tea.id)
    expect(shopper.locator("#cart-badge-tab")).to_have_text("2")
    shopper.goto("/cart")
    expect(shopper.locator("main")).to_contain_text("山间果园")
    expect(shopper.locator("main")).to_contain_text("老茶庄")
    snap(shopper, "order-cart")
    shopper.get_by_role("link", name=re.compile(r"^结算")).click()
    expect(shopper).to_have_url(re.compile(r"/checkout"))
    expect(shopper.locator("main")).to_contain_text("林小姐")
    total = 3990 + 600 + 12800
    expect(shopper.locator("main")).to_contain_text(f"{total / 100:.2f}")
    shopper.locator("input[name^=note]").first.fill("请挑大一点的")
    snap(shopper, "order-checkout")
    shopper.get_by_role("button", name="提交订单").click()

    # --- the sandbox gateway -----------------------------------------------------------
    expect(shopper).to_have_url(re.compile(r"/payments/sandbox/P\d+"))
    snap(shopper, "order-sandbox-pay")
    shopper.get_by_role("button", name=re.compile(r"^确认支付 ")).click()
    expect(shopper.get_by_role("heading", name="支付成功")).to_be_visible()
    snap(shopper, "order-paid")

    shopper.goto("/orders?tab=to_ship")
    order_nos = shopper.locator("article.order-card").evaluate_all(
        "els => els.map(e => e.id.replace('order-', ''))")
    assert len(order_nos) == 2, order_nos
    snap(shopper, "order-list-to-ship")

    # --- both merchants ship --------------------------------------------------------------
    shipped = {}
    for owner_phone, tracking_no in (("13655560001", "ZT7700000001"), ("13655560002", "ZT7700000002")):
        merchant = open_context(viewport=DESKTOP).new_page()
        sign_in(merchant, owner_phone)
        expect(merchant).to_have_url(re.compile(r"/merchant/$"))  # owners land in their console
        expect(merchant.locator("#shop-figures .kpi-card", has_text="待发货")).to_contain_text("1")
        snap(merchant, f"order-merchant-dashboard-{owner_phone[-1]}")
        merchant.goto("/merchant/orders")
        mine = [no for no in order_nos if merchant.get_by_role("link", name=no).count()]
        assert len(mine) == 1, (owner_phone, mine)
        ship(merchant, mine[0], tracking_no)
        shipped[mine[0]] = (merchant, tracking_no)
        snap(merchant, f"order-merchant-shipped-{owner_phone[-1]}")

    # a manual tracking step for the orange order, typed by the orchard
    fruit_order = next(no for no, (page, _tn) in shipped.items() if "赣南脐橙" in page.locator("main").inner_text())
    merchant, _tn = shipped[fruit_order]
    merchant.locator("input[name=description]").fill("快件已到达杭州转运中心")
    merchant.locator("input[name=location]").fill("杭州")
    merchant.get_by_role("button", name=re.compile("添加")).click()
    expect(merchant.locator("main")).to_contain_text("快件已到达杭州转运中心")

    # --- the shopper follows the parcel, confirms receipt and reviews ----------------------------
    shopper.goto("/orders?tab=to_receive")
    expect(shopper.locator("article.order-card")).to_have_count(2)
    shopper.goto(f"/orders/{fruit_order}")
    tracking = shopper.locator("#tracking")
    expect(tracking).to_contain_text("中通快递")
    expect(tracking).to_contain_text("快件已到达杭州转运中心")
    expect(tracking).to_contain_text("商家已发货")
    snap(shopper, "order-tracking")
    shopper.get_by_role("button", name="确认收货").click()
    confirm(shopper, "确认收货")
    expect(shopper.locator("main")).to_contain_text("已收货")

    shopper.get_by_role("link", name="评价").first.click()
    shopper.locator("label[for=rating-5]").click()
    shopper.locator("textarea[name=text]").fill("包装很好，味道清香，会回购。")
    snap(shopper, "order-review")
    shopper.get_by_role("button", name="发表评价").click()
    expect(shopper.locator("main")).to_contain_text("已评价")

    shopper.goto(f"/products/{fruit.id}")
    reviews = shopper.locator("#reviews")
    expect(reviews).to_contain_text("包装很好，味道清香，会回购。")
    expect(reviews).to_contain_text("商品评价（1）")
    expect(reviews).to_contain_text("5.0 分")
    snap(shopper, "order-product-review")
