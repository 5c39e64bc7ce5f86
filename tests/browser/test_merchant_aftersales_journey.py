"""A shop answers its after-sales in Chromium against the live server: the queue with
its tabs and deadlines, a return with a photo approved to the default return address,
the buyer ships it back, the shop confirms the parcel and restocks it (confirm dialog),
the refund starts; a refund-only is rejected with a reason; a return address is added
in the settings. Screenshots of the queue, the detail and the settings."""
from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.aftersales import services
from app.core.db import transaction
from app.extensions import db
from app.merchants.models import MerchantAddress
from app.orders.models import Order
from tests.aftersales.conftest import apply, receive, ship
from tests.browser.conftest import DESKTOP
from tests.browser.helpers import confirm, sign_in
from tests.factories import png_bytes

pytestmark = pytest.mark.live_db


@pytest.fixture
def shop_with_requests(make_user, make_merchant, make_product, place_order, pay_sandbox):
    """A shop (its owner signs in with 13655551111) with a default return address and
    three paid orders: their ids."""
    owner = make_user(phone="13655551111", nickname="售后店主")
    merchant = make_merchant(owner=owner, name="鲜果铺", aftersale_auto_refund=False)
    db.session.add(MerchantAddress(merchant_id=merchant.id, label="杭州仓", recipient="售后部",
                                   phone="+8613700000001", address="浙江省杭州市余杭区仓前街道 1 号", is_default=True))
    db.session.commit()
    titles = ("有机苹果礼盒 5 斤装", "赣南脐橙 10 斤", "海南贵妃芒")
    skus = [make_product(merchant=merchant, title=title, stocks=(20,)).skus[0].id for title in titles]
    orders = []
    for sku_id in skus:
        payment = place_order(make_user(), [(sku_id, 2)], key=uuid.uuid4().hex)
        payment_id = payment.id
        assert pay_sandbox(payment).status_code == 200
        orders.append(db.session.scalar(sa.select(Order.id).where(Order.payment_id == payment_id)))
    return orders


def test_the_shop_approves_receives_restocks_and_rejects(open_context, shop_with_requests, snap, app, live_server,
                                                          monkeypatch):
    # the evidence is stored here, in the test, where the live server reads its uploads
    monkeypatch.setitem(app.config, "UPLOAD_DIR", live_server.app.config["UPLOAD_DIR"])
    first, second, third = (db.session.get(Order, order_id) for order_id in shop_with_requests)
    returned = apply(receive(ship(first)), kind="return_refund", quantity=1, description="有两个压坏了",
                     images=[png_bytes((640, 480)), png_bytes((480, 640), color=(46, 120, 255))])
    refund_only = apply(second, kind="refund_only", reason="no_longer_wanted")  # unshipped, the shop reviews it
    apply(receive(ship(third)), kind="exchange", reason="size_color")

    page = open_context(viewport=DESKTOP).new_page()
    sign_in(page, "13655551111")
    page.goto("/merchant/aftersales")
    expect(page.locator("#aftersale-tabs .active")).to_contain_text("待处理")
    expect(page.locator(".aftersale-row")).to_have_count(3)
    expect(page.locator(".bo-nav-link.active")).to_contain_text("3")
    expect(page.locator("#aftersales-table")).to_contain_text("剩 2 天 23 小时")
    snap(page, "merchant-aftersales-queue")

    # the return: evidence enlarges, approve to the default address
    page.locator(f"#aftersale-{returned.aftersale_no}").get_by_role("link", name="处理").click()
    expect(page).to_have_url(re.compile(f"/merchant/aftersales/{returned.aftersale_no}$"))
    expect(page.locator(".evidence-thumb img").first).to_have_js_property("naturalWidth", 400)
    page.locator(".evidence-thumb").first.click()
    expect(page.locator("#doc-viewer")).to_be_visible()
    expect(page.locator("#doc-viewer-img")).to_have_js_property("naturalWidth", 640)
    page.locator("#doc-viewer .btn-close").click()
    expect(page.locator("#doc-viewer")).to_be_hidden()
    expect(page.locator("#return-address")).to_have_value(re.compile(r"\d+"))
    snap(page, "merchant-aftersale-detail")
    page.locator("#aftersale-actions").get_by_role("button", name="同意退货").click()
    expect(page.locator("#aftersale-status")).to_contain_text("待买家退货")
    expect(page.locator("#toasts")).to_contain_text("已同意")
    expect(page.locator("#aftersale-timeline")).to_contain_text("商家同意退货，等待买家寄回")
    expect(page.locator("#nav-badge-merchant-aftersales_list")).to_have_text("2")  # the sidebar follows

    # the buyer ships it back; the shop confirms the parcel and puts it back on the shelf
    with transaction():
        services.ship_back(returned.buyer_id, returned.aftersale_no, "yuantong", "YT9988776655")
    page.reload()
    expect(page.locator("#aftersale-return")).to_contain_text("YT9988776655")
    page.get_by_label("商品完好，重新入库").check()
    page.locator("#aftersale-actions").get_by_role("button", name="确认收货").click()
    confirm(page, "确认收货")
    expect(page.locator("#aftersale-status")).to_contain_text(re.compile("退款中|已退款"))
    expect(page.locator("#aftersale-timeline")).to_contain_text("商家确认收到退货，已入库")
    expect(page.locator("#aftersale-return")).to_contain_text("已入库")
    snap(page, "merchant-aftersale-refunding")

    # the refund-only of an unshipped order: the order page says why it cannot ship; the shop rejects
    page.goto(f"/merchant/orders/{second.order_no}")
    expect(page.locator(".order-held")).to_contain_text("买家申请了退款")
    page.locator(".order-held").get_by_role("link").click()
    expect(page).to_have_url(re.compile(f"/merchant/aftersales/{refund_only.aftersale_no}$"))
    page.wait_for_load_state()  # HTMX set up: a click before it posts the form without HTMX
    page.locator("#aftersale-actions").get_by_role("button", name="拒绝").click()
    expect(page.locator("#reject-form")).to_have_class(re.compile(r"\bshow\b"))  # opened, not still sliding
    page.locator("#aftersale-actions").get_by_role("button", name="确认拒绝").click()
    expect(page.locator("#aftersale-actions")).to_contain_text("请填写拒绝理由")
    page.locator("#reject-reason").fill("已与买家电话沟通，买家同意收货")
    page.locator("#aftersale-actions").get_by_role("button", name="确认拒绝").click()
    expect(page.locator("#aftersale-status")).to_contain_text("已拒绝")

    # a second return address, added in the settings without leaving the page
    page.goto("/merchant/settings")
    page.locator("#return-addresses").get_by_role("button", name="添加地址").click()
    form = page.locator("#address-new")
    form.locator("input[name=recipient]").fill("王仓管")
    form.locator("input[name=phone]").fill("13900139000")
    form.locator("input[name=address]").fill("上海市浦东新区张江路 100 号")
    form.get_by_role("button", name="添加").click()
    expect(page.locator("#return-addresses .return-address")).to_have_count(2)
    expect(page.locator("#toasts")).to_contain_text("退货地址已添加")
    page.goto("/merchant/settings")
    snap(page, "merchant-settings-return-addresses")
