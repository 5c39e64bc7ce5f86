"""资金 from a shop's money to a paid withdrawal, in Chromium against the live server.

A shop with settled money opens 资金, sees its tiles and the statement (with the order
number), asks to withdraw ¥300 to Alipay (the fee shown before confirming); a finance
admin approves it in 商家提现 and marks it paid from the sandbox account with the
transfer reference; the shop then reads ¥300 withdrawn."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.core.db import transaction
from app.extensions import db
from app.orders.models import Order
from tests.browser.helpers import confirm, sign_in
from tests.finance.funds import collect, fund, settle

pytestmark = pytest.mark.live_db

OWNER_PHONE = "13655590001"
FINANCE_PHONE = "13655590002"


def test_a_shop_withdraws_and_finance_pays_it(open_context, make_user, make_merchant, make_product, place_order,
                                              snap):
    owner = make_user(phone=OWNER_PHONE, nickname="王掌柜")
    make_user(phone=FINANCE_PHONE, nickname="财务小李", admin_role="finance")
    shop = make_merchant(owner=owner, name="鲜果铺")
    sku = make_product(merchant=shop, title="赣南脐橙 5kg", price_fen=6800).skus[0]
    payment = place_order(make_user(), [(sku.id, 2)])
    order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))
    with transaction():
        collect(shop.id, 13_600, order_id=order.id, key="journey")
        settle(shop.id, 13_600, 680, order_id=order.id, key="journey")
        fund(shop.id, 60_000, pending_fen=4_500, fee_fen=3_000)
    order_no = order.order_no

    # --- the shop reads its money ---------------------------------------------------------------
    merchant = open_context().new_page()
    sign_in(merchant, OWNER_PHONE)
    merchant.goto("/merchant/funds")
    tiles = merchant.locator("#funds-tiles")
    expect(tiles.locator('[data-tile="pending"]')).to_contain_text("45")
    expect(tiles.locator('[data-tile="available"]')).to_contain_text("729")  # 129.20 + 600.00
    expect(merchant.locator("#statement-table")).to_contain_text(order_no)
    expect(merchant.locator("#statement-table")).to_contain_text("含平台服务费 ¥6.80")
    snap(merchant, "merchant-funds")

    # --- and asks for ¥300 ------------------------------------------------------------------------
    merchant.locator("#withdraw-link").click()
    expect(merchant).to_have_url(re.compile(r"/merchant/funds/withdrawals$"))
    merchant.wait_for_load_state()  # HTMX set up: typing before it misses the fee preview's trigger
    merchant.locator("#amount").fill("300")
    expect(merchant.locator("#fee-preview")).to_contain_text("实际到账 ¥300.00")
    merchant.locator("label[for=method-alipay]").click()
    merchant.locator("#account_name").fill("鲜果铺商贸有限公司")
    merchant.locator("#account_no").fill("xianguopu@example.com")
    snap(merchant, "merchant-withdraw-form")
    merchant.get_by_role("button", name="下一步").click()
    expect(merchant.locator("#confirm-net")).to_have_text("¥300.00")
    merchant.get_by_role("button", name="确认提现").click()
    expect(merchant.locator("#withdrawal-detail")).to_contain_text("审核中")

    # --- finance approves and pays ------------------------------------------------------------------
    admin = open_context(viewport={"width": 1440, "height": 900}).new_page()
    sign_in(admin, FINANCE_PHONE)
    admin.goto("/admin/finance/merchant-withdrawals")
    row = admin.locator("#mw-list tbody tr").first
    expect(row).to_contain_text("鲜果铺")
    expect(row).to_contain_text("xianguopu@example.com")
    row.get_by_role("button", name="审核通过").click()
    confirm(admin, "通过")
    expect(admin.locator("#confirm-modal")).to_be_hidden()  # it fades out over the row
    expect(row.locator("select[name=paid_from]")).to_be_visible()
    expect(row.locator("select[name=paid_from]")).to_contain_text("沙箱 · 余额 ¥811.00")
    snap(admin, "admin-merchant-withdrawals")
    row.locator("input[name=transfer_ref]").fill("ALIPAY-20261207-0001")
    row.get_by_role("button", name="已打款").click()
    confirm(admin, "确认已打款")
    expect(row).to_contain_text("ALIPAY-20261207-0001")
    expect(admin.locator("#mw-tabs")).to_contain_text("已打款 1")

    # --- the shop sees it withdrawn --------------------------------------------------------------------
    merchant.goto("/merchant/funds")
    expect(merchant.locator('[data-tile="withdrawn"]')).to_contain_text("300")
    expect(merchant.locator('[data-tile="available"]')).to_contain_text("429")
    merchant.goto("/merchant/funds/withdrawals")
    expect(merchant.locator("#withdrawal-list")).to_contain_text("已到账")
    snap(merchant, "merchant-withdrawals")
