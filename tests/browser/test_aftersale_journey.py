"""The buyer's after-sales in Chromium: from the order page to 申请售后, the quantity
stepper updating the refund estimate (HTMX), 其他 opening its text box, a photo with its
preview, the request's page with its deadline; the shop approves, the buyer copies the
return address and enters the return shipment; 我的 → 售后 lists it.
Screenshots: aftersale-apply, aftersale-detail, aftersale-list."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.aftersales import services
from app.core.db import transaction
from tests.aftersales.conftest import default_address_id, owner_of
from tests.browser.helpers import sign_in
from tests.factories import png_bytes

pytestmark = pytest.mark.live_db


def test_apply_for_a_return_then_ship_it_back(open_context, make_user, sold, snap):
    buyer = make_user(phone="13655570001", nickname="退货的小王")
    order = sold(buyer, "received", quantity=2, title="陶瓷马克杯 350ml")
    page = open_context().new_page()
    sign_in(page, "13655570001")

    page.goto(f"/orders/{order.order_no}")
    page.get_by_role("link", name="申请售后").click()
    expect(page).to_have_url(re.compile(r"/aftersale\?item="))
    estimate = page.locator("#refund-estimate")
    expect(estimate).to_contain_text("198")  # both units by default
    with page.expect_response(re.compile(r"/aftersale/estimate")):
        page.get_by_role("button", name="减少").click()
    expect(estimate).to_contain_text("99")
    expect(estimate).not_to_contain_text("198")

    page.locator("label[for=kind-return_refund]").click()
    other_box = page.locator("#reason_text")
    expect(other_box).to_be_hidden()
    page.locator("label[for=reason-other]").click()
    expect(other_box).to_be_visible()
    other_box.fill("杯口有一道裂纹")
    page.locator("#description").fill("收到时外箱完好，杯子裂了")
    page.locator("#images").set_input_files([{"name": "crack.png", "mimeType": "image/png", "buffer": png_bytes()}])
    expect(page.locator("#images-previews img")).to_have_count(1)
    snap(page, "aftersale-apply")
    page.get_by_role("button", name="提交申请").click()

    expect(page).to_have_url(re.compile(r"/aftersales/S\d+$"))
    main = page.locator("main")
    expect(main).to_contain_text("待商家处理")
    expect(main).to_contain_text(re.compile(r"商家将在 \d\d-\d\d \d\d:\d\d 前处理，逾期自动同意"))
    expect(main).to_contain_text("杯口有一道裂纹")
    expect(page.locator(".evidence-image img")).to_have_count(1)
    aftersale_no = page.url.rsplit("/", 1)[-1]

    with transaction():
        services.approve(owner_of(order), aftersale_no, default_address_id(order))
    page.reload()
    expect(main).to_contain_text("退货地址")
    expect(main).to_contain_text("仓前街道 1 号")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="复制").click()
    expect(page.locator("#toasts .toast", has_text="地址已复制")).to_be_visible()
    snap(page, "aftersale-detail")
    page.locator("#carrier").select_option("yuantong")
    page.locator("#tracking_no").fill("yt1234567890")
    page.get_by_role("button", name="提交物流信息").click()
    expect(main).to_contain_text("待商家收货")
    expect(main).to_contain_text("YT1234567890")

    page.goto("/me")
    page.locator(".order-shortcut", has_text="售后").click()
    expect(page).to_have_url(re.compile(r"/aftersales$"))
    expect(page.locator(".aftersale-card")).to_have_count(1)
    expect(page.locator(".aftersale-card")).to_contain_text("陶瓷马克杯")
    snap(page, "aftersale-list")


def test_cancel_and_refund_a_paid_order_from_its_page(open_context, make_user, sold, snap):
    buyer = make_user(phone="13655570002", nickname="改主意的小李")
    order = sold(buyer, "paid", quantity=1, shipping_fen=600, title="帆布托特包")
    page = open_context().new_page()
    sign_in(page, "13655570002")
    page.goto(f"/orders/{order.order_no}")
    expect(page.get_by_role("link", name="申请售后")).to_be_visible()
    page.get_by_role("button", name="取消订单并退款").click()
    dialog = page.locator("#cancel-refund-modal")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("¥105.00 将原路退回")  # the item and its shipping: nothing was shipped
    dialog.locator("label[for=cancel-reason-no_longer_wanted]").click()
    snap(page, "aftersale-cancel-refund")
    dialog.get_by_role("button", name="确认取消并退款").click()
    expect(page).to_have_url(re.compile(r"/aftersales/S\d+$"))
    expect(page.locator("main")).to_contain_text(re.compile("退款中|已退款"))
    page.goto(f"/orders/{order.order_no}")
    expect(page.locator("main")).to_contain_text("已退 1 件")
    expect(page.locator("#aftersales")).to_contain_text("仅退款")
    snap(page, "aftersale-order")
