"""A product from the merchant's form to the shopper's search, in Chromium: the
merchant adds a product with two spec dimensions and images, an admin approves
it, a shopper finds it by a Chinese keyword and sees each spec's price and
stock, then the merchant delists it and it disappears from search.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP
from tests.browser.helpers import sign_in
from tests.factories import png_bytes

pytestmark = pytest.mark.live_db

PRICES = {"红 / S": ("129", "8"), "红 / M": ("129", "0"), "蓝 / S": ("139", "5"), "蓝 / M": ("139", "12")}


def add_dimension(page: Page, index: int, name: str, values: str) -> None:
    """Fill spec dimension `index` (the new form starts with one empty dimension)."""
    if page.locator(f"#spec-{index}-name").count() == 0:
        page.get_by_role("button", name="添加规格").click()
    page.locator(f"#spec-{index}-name").fill(name)
    page.locator(f"#spec-{index}-values").fill(values)
    # Leaving the field fires its change event; wait until the matrix redraw is back.
    with page.expect_response(re.compile(r"/merchant/products/matrix")):
        page.locator(f"#spec-{index}-values").press("Tab")


def test_merchant_lists_admin_approves_shopper_finds_merchant_delists(open_context, make_user, make_merchant,
                                                                     make_category, snap):
    owner = make_user(phone="13655551111", nickname="羊毛衫店主")
    make_merchant(owner=owner, name="北岸针织")
    make_category(name="针织衫")
    make_user(phone="13800008888", admin_role="operator")

    # --- the merchant adds the product ---------------------------------------------
    shop = open_context(viewport=DESKTOP).new_page()
    sign_in(shop, "13655551111")
    shop.goto("/merchant/products/new")
    shop.locator("#title").fill("美丽诺羊毛开衫")
    shop.locator("#subtitle").fill("秋冬新款 柔软亲肤")
    option = shop.locator("#category_id option", has_text="针织衫")
    shop.locator("#category_id").select_option(value=option.get_attribute("value"))
    add_dimension(shop, 0, "颜色", "红, 蓝")
    add_dimension(shop, 1, "尺码", "S, M")
    rows = shop.locator("#sku-matrix tbody tr")
    expect(rows).to_have_count(4)
    for i in range(4):
        label = rows.nth(i).locator("th").inner_text().strip()
        price, stock = PRICES[label]
        rows.nth(i).locator("input[name$='[price]']").fill(price)
        rows.nth(i).locator("input[name$='[stock]']").fill(stock)
    shop.locator("#images").set_input_files([
        {"name": "front.png", "mimeType": "image/png", "buffer": png_bytes((600, 600), (180, 40, 40))},
        {"name": "back.png", "mimeType": "image/png", "buffer": png_bytes((600, 600), (40, 60, 180))},
    ])
    snap(shop, "merchant-product-form")
    shop.get_by_role("button", name="保存并提交审核").click()
    expect(shop.locator("body")).to_contain_text("审核中")  # saved and sent to review

    # --- the platform approves ------------------------------------------------------
    admin = open_context(viewport=DESKTOP).new_page()
    sign_in(admin, "13800008888")
    admin.goto("/admin/products/review")
    admin.locator("tr", has_text="美丽诺羊毛开衫").get_by_role("link", name="审核").click()
    snap(admin, "admin-product-review")
    admin.get_by_role("button", name="通过并上架").click()
    admin.locator("#confirm-modal-ok").click()
    expect(admin.locator("#decision-panel")).to_contain_text("商品正在销售")

    # --- a shopper finds it by a Chinese keyword and checks each spec ---------------
    shopper = open_context().new_page()
    shopper.goto("/search?q=" + "羊毛")
    card = shopper.get_by_role("link", name=re.compile("美丽诺羊毛开衫")).first
    expect(card).to_be_visible()
    snap(shopper, "shop-search")
    card.click()
    expect(shopper.get_by_role("heading", name=re.compile("美丽诺羊毛开衫"))).to_be_visible()
    options = shopper.locator(".sku-option")
    expect(options).to_have_count(4)
    for label, (price, stock) in PRICES.items():
        option = options.filter(has_text=label)
        expect(option).to_contain_text(price)
        expect(option).to_contain_text("已售罄" if stock == "0" else f"库存 {stock}")
    expect(options.filter(has_text="红 / M").locator("input")).to_be_disabled()
    snap(shopper, "shop-product")

    # --- the merchant delists it; it is gone from search ----------------------------
    shop.goto("/merchant/products?status=on_sale")
    row = shop.locator("[id^=product-]", has_text="美丽诺羊毛开衫")
    row.get_by_role("button", name="下架").click()
    shop.locator("#confirm-modal-ok").click()
    expect(row).to_have_count(0)
    shopper.goto("/search?q=羊毛")
    expect(shopper.get_by_role("link", name=re.compile("美丽诺羊毛开衫"))).to_have_count(0)
