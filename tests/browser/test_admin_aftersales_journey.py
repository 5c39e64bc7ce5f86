"""The platform steps in, in Chromium against the live server: an operator finds the
escalated request in 售后纠纷, reads both sides and the photos, asks a question in the
thread, rules for the buyer (confirmed) and sees the ruling; then cancels and refunds
part of another order from its page."""
from __future__ import annotations

import urllib.request

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.merchants.models import MerchantAddress
from app.orders.models import Order
from tests.aftersales.dispute_steps import disputed
from tests.browser.conftest import DESKTOP
from tests.browser.helpers import confirm, sign_in
from tests.factories import sandbox_notification

pytestmark = pytest.mark.live_db


@pytest.fixture
def paid(live_server, make_user, make_merchant, make_product, place_order):
    """`paid(quantity=2, products=1)` -> an order paid by a signed sandbox notification
    to the live server (the shop has a default return address), as `bought` makes them
    for the rolled-back tests."""

    def buy(quantity=2, products=1):
        merchant = make_merchant()
        db.session.add(MerchantAddress(merchant_id=merchant.id, label="仓库", recipient="售后部", phone="057100000000",
                                       address="浙江省杭州市余杭区仓前街道 1 号", is_default=True))
        db.session.commit()
        skus = [make_product(merchant=merchant).skus[0] for _ in range(products)]
        payment = place_order(make_user(), [(sku.id, quantity) for sku in skus])
        body, headers = sandbox_notification(payment.out_trade_no, payment.amount_fen)
        request = urllib.request.Request(f"{live_server.url}/payments/notify/sandbox", data=body, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        db.session.expire_all()
        return db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))

    return buy


def test_an_operator_rules_on_a_dispute_and_refunds_an_order(app, live_server, monkeypatch, open_context, make_user,
                                                            paid, snap):
    # the photos the services store here are the ones the live server serves
    monkeypatch.setitem(live_server.app.config, "UPLOAD_DIR", app.config["UPLOAD_DIR"])
    make_user(phone="13800006666", admin_role="operator", nickname="客服主管")
    order, aftersale = disputed(paid, quantity=2, asked=1)
    other = paid(quantity=3, products=2)

    page = open_context(viewport=DESKTOP).new_page()
    sign_in(page, "13800006666")
    page.goto("/admin/disputes")
    expect(page.locator(".bo-nav-link.active")).to_contain_text("售后纠纷1")
    row = page.locator("tr", has_text=aftersale.aftersale_no)
    expect(row).to_contain_text("退货退款")
    snap(page, "admin-disputes-queue")
    row.get_by_role("link", name=aftersale.aftersale_no).click()
    expect(page.locator("#dispute-statements")).to_contain_text("商家拒绝退货，照片能看到裂痕")

    # the buyer's photo opens in the viewer
    page.locator("#aftersale-request .evidence-thumb").first.click()
    expect(page.locator("#doc-viewer")).to_be_visible()
    expect(page.locator("#doc-viewer-img")).to_have_js_property("complete", True)
    assert page.locator("#doc-viewer-img").evaluate("img => img.naturalWidth") > 0
    page.locator("#doc-viewer").get_by_role("button", name="关闭").click()
    expect(page.locator("#doc-viewer")).to_be_hidden()

    # a question in the thread, over HTMX
    page.locator("#thread-body").fill("请商家在 24 小时内提供出库视频")
    page.locator("#dispute-thread").get_by_role("button", name="发送").click()
    expect(page.locator("#dispute-thread .dispute-message-platform")).to_contain_text("请商家在 24 小时内提供出库视频")
    expect(page.locator("#thread-body")).to_have_value("")

    # a ruling without a note is refused under the field
    page.locator("#ruling-refund").check()
    page.locator("#ruling-panel").get_by_role("button", name="提交裁定").click()
    confirm(page, "提交裁定")
    expect(page.locator("#ruling-panel .invalid-feedback")).to_contain_text("请填写处理说明")
    expect(page.locator("#ruling-refund")).to_be_checked()
    page.locator("#ruling-note").fill("照片可见外壳裂痕，商家未能举证出库完好，支持买家退款")
    page.evaluate("window.scrollTo(0, 0)")
    snap(page, "admin-dispute-detail")
    page.locator("#ruling-panel").get_by_role("button", name="提交裁定").click()
    confirm(page, "提交裁定")
    expect(page.locator("#ruling-panel")).to_contain_text("支持买家：直接退款")
    expect(page.locator("#ruling-panel")).to_contain_text("客服主管")
    expect(page.locator("#aftersale-status")).to_contain_text("已退款")  # jobs run inline: the sandbox refunds at once
    expect(page.locator("#dispute-thread form")).to_have_count(0)  # the thread is closed
    expect(page.locator("#aftersale-order")).to_contain_text("¥99.00")  # refunded on the order too
    page.evaluate("window.scrollTo(0, 0)")
    snap(page, "admin-dispute-ruled")

    # cancel and refund one unit of another order's first item
    page.goto(f"/admin/orders/{other.order_no}")
    panel = page.locator("#order-refund")
    panel.locator("#refund-scope-items").check()
    panel.locator(f"#refund-qty_{other.items[0].id}").fill("1")
    panel.locator("#refund-reason").fill("商家缺货，平台先行退款")
    page.evaluate("window.scrollTo(0, 0)")  # a full-page shot taken scrolled draws the fixed frame mid-page
    snap(page, "admin-order-refund")
    panel.get_by_role("button", name="取消并退款").click()
    confirm(page, "确定退款")
    expect(page.locator("#order-refunds")).to_contain_text("¥99.00")
    expect(page.locator("#order-aftersales")).to_contain_text("仅退款")
    expect(page.get_by_text("已退 1 件")).to_be_visible()

    # every request, and the categories' own windows
    page.goto("/admin/aftersales")
    expect(page.locator("#aftersales-table tbody tr")).to_have_count(2)
    snap(page, "admin-aftersales-list")
    page.goto("/admin/categories")
    expect(page.locator("input[name=aftersale_window_days]").first).to_have_attribute("placeholder", "7")
    snap(page, "admin-categories-window")
