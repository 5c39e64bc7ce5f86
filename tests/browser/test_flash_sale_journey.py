"""秒杀 in Chromium: an operator makes a platform event through the admin form (SKU
search adds the row) and publishes it; a shopper sees it on the home page and the
product page (event price, a countdown that ticks, 已抢 progress), taps 立即秒杀 and
lands on the payment page; another product shows its upcoming event as 即将开始."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.core.clock import SHANGHAI, utcnow
from app.core.db import transaction
from app.flashsales import policies, services
from tests.browser.conftest import DESKTOP
from tests.browser.helpers import sign_in

pytestmark = pytest.mark.live_db


def local(delta: timedelta) -> str:
    return (utcnow() + delta).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def test_operator_publishes_and_a_shopper_grabs_a_unit(open_context, make_user, make_product, make_address, snap):
    make_user(phone="13800007777", admin_role="operator")
    buyer = make_user(phone="13900007777")
    make_address(buyer)
    product = make_product(title="降噪蓝牙耳机 Pro", stocks=(40,), price_fen=29900)
    later = make_product(title="便携榨汁杯", stocks=(20,), price_fen=8900)
    operator = make_user(admin_role="operator")
    now = utcnow()
    with transaction():
        upcoming = services.create(policies.platform(operator), {
            "title": "明日秒杀", "starts_at": now + timedelta(hours=5), "ends_at": now + timedelta(hours=7),
            "items": [{"sku_id": later.skus[0].id, "price_fen": 3900, "stock": 10, "per_buyer_limit": 1}]})
        services.publish(policies.platform(operator), upcoming.id)

    # --- the operator makes and publishes the event ---------------------------------------
    admin = open_context(viewport=DESKTOP).new_page()
    sign_in(admin, "13800007777")
    admin.goto("/admin/flash-sales/new")
    admin.locator("#flash-title").fill("整点秒杀")
    admin.locator("#flash-starts").fill(local(timedelta(minutes=-1)))
    admin.locator("#flash-ends").fill(local(timedelta(hours=2)))
    with admin.expect_response(re.compile(r"/admin/flash-sales/skus")):
        admin.get_by_placeholder("搜索商品标题，添加规格").fill("耳机")
    with admin.expect_response(re.compile(r"/admin/flash-sales/row")):
        admin.locator("#flash-sku-results").get_by_role("button", name="添加").click()
    row = admin.locator("#flash-rows tr")
    expect(row).to_have_count(1)
    row.locator("input[name=price]").fill("99")
    row.locator("input[name=stock]").fill("10")
    row.locator("input[name=per_buyer_limit]").fill("1")
    snap(admin, "flash-admin-form")
    admin.get_by_role("button", name="保存").click()
    expect(admin.locator(".toast, .alert").first).to_contain_text("草稿")
    admin.get_by_role("button", name="发布").click()
    expect(admin.locator("h1")).to_contain_text("已排期")
    snap(admin, "flash-admin-detail")

    # --- the shopper sees it and grabs one --------------------------------------------------
    shopper = open_context().new_page()
    sign_in(shopper, "13900007777")
    shopper.goto("/")
    block = shopper.locator(".flash-strip")
    expect(block).to_contain_text("限时秒杀")
    expect(block.locator(".flash-card")).to_have_count(1)
    expect(block).to_contain_text("降噪蓝牙耳机 Pro")
    snap(shopper, "flash-home")
    shopper.goto(f"/products/{product.id}")
    flash = shopper.locator(".flash-block")
    expect(flash).to_contain_text("99.00")
    expect(flash).to_contain_text("已抢 0%")
    clock = flash.locator("time.countdown")
    expect(clock).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))  # the script took over the printed time
    first = clock.inner_text()
    expect(clock).not_to_have_text(first, timeout=3000)  # and it ticks
    snap(shopper, "flash-product")
    shopper.get_by_role("button", name="立即秒杀").click()
    expect(shopper).to_have_url(re.compile(r"/orders/\w+/pay$"))
    expect(shopper.locator("body")).to_contain_text("99.00")

    shopper.goto(f"/products/{later.id}")
    expect(shopper.locator(".flash-block")).to_contain_text("即将开始")
    expect(shopper.get_by_role("button", name="立即秒杀")).to_have_count(0)
    snap(shopper, "flash-product-upcoming")
