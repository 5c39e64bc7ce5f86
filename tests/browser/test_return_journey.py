"""A return from start to money back, every step in Chromium by the person who takes it:
a shopper brought in by a distributor buys, the shop ships, the shopper confirms receipt,
asks to return it with a photo, the shop approves to its return address, the shopper
ships it back, the shop confirms the parcel and restocks it, the sandbox refunds at
once. Then the stock, the order and the distributor's commission are all as before.
Screenshots: return-apply, return-merchant-approve, return-ship-back,
return-merchant-receive, return-refunded, return-order-closed."""
# ruff: noqa: F811  (the fixtures imported below are named as test arguments)
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.catalog.models import Sku
from app.core.db import transaction
from app.distribution import referrals
from app.distribution.models import Commission
from app.extensions import db
from app.merchants.models import MerchantAddress
from app.orders.models import Order
from tests.browser.conftest import DESKTOP
from tests.browser.helpers import confirm, sign_in
from tests.browser.test_order_journey import add_to_cart
from tests.browser.test_order_journey import ship as ship_in_console
from tests.distribution.conftest import set_rules  # noqa: F401  (a fixture)
from tests.factories import png_bytes

pytestmark = pytest.mark.live_db


def test_buy_receive_return_with_a_photo_restock_and_refund(open_context, make_user, make_merchant, make_product,
                                                            make_address, make_distributor, set_rules, snap):
    set_rules(levels="1", settlement_delay_days="7")
    sharer = make_distributor(phone="13655580009", nickname="分享达人")
    owner = make_user(phone="13655580001", nickname="茶庄老板")
    shop = make_merchant(owner=owner, name="老茶庄")
    db.session.add(MerchantAddress(merchant_id=shop.id, label="杭州仓", recipient="茶庄售后", phone="+8613655580001",
                                   address="浙江省杭州市西湖区龙井路 8 号", is_default=True))
    db.session.commit()
    tea = make_product(merchant=shop, title="明前龙井 100g", stocks=(8,), price_fen=12800)
    sku_id, tea_id = tea.skus[0].id, tea.id
    buyer = make_user(phone="13655580003", nickname="爱喝茶的小林")
    make_address(buyer, recipient="林小姐", phone="13655580003")
    with transaction():
        referrals.bind(buyer, sharer.code, "link", is_new_user=True)

    # --- the shopper buys and pays in the sandbox ------------------------------------------
    shopper = open_context().new_page()
    sign_in(shopper, "13655580003")
    add_to_cart(shopper, tea_id)
    shopper.goto("/cart")
    shopper.get_by_role("link", name=re.compile(r"^结算")).click()
    shopper.get_by_role("button", name="提交订单").click()
    expect(shopper).to_have_url(re.compile(r"/payments/sandbox/P\d+"))
    shopper.get_by_role("button", name=re.compile(r"^确认支付 ")).click()
    expect(shopper.get_by_role("heading", name="支付成功")).to_be_visible()
    db.session.expire_all()
    order_no = db.session.scalar(sa.select(Order.order_no).where(Order.buyer_id == buyer.id))
    assert db.session.get(Sku, sku_id).stock == 7
    [commission] = db.session.scalars(sa.select(Commission)).all()
    assert (commission.status, commission.amount_fen, commission.void_fen) == ("pending", 1280, 0)

    # --- the shop ships, the shopper confirms receipt ------------------------------------------
    merchant = open_context(viewport=DESKTOP).new_page()
    sign_in(merchant, "13655580001")
    ship_in_console(merchant, order_no, "ZT7700000099")
    shopper.goto(f"/orders/{order_no}")
    shopper.get_by_role("button", name="确认收货").click()
    confirm(shopper, "确认收货")
    expect(shopper.locator("main")).to_contain_text("已收货")

    # --- the shopper asks to return it, with a photo ------------------------------------------
    shopper.get_by_role("link", name="申请售后").click()
    expect(shopper).to_have_url(re.compile(r"/aftersale\?item="))
    shopper.locator("label[for=kind-return_refund]").click()
    shopper.locator("label[for=reason-quality]").click()
    shopper.locator("#description").fill("茶叶受潮结块，附照片")
    shopper.locator("#images").set_input_files([{"name": "tea.png", "mimeType": "image/png",
                                                  "buffer": png_bytes((640, 480), color=(60, 140, 60))}])
    expect(shopper.locator("#images-previews img")).to_have_count(1)
    expect(shopper.locator("#refund-estimate")).to_contain_text("128.00")
    snap(shopper, "return-apply")
    shopper.get_by_role("button", name="提交申请").click()
    expect(shopper).to_have_url(re.compile(r"/aftersales/S\d+$"))
    expect(shopper.locator("main")).to_contain_text("待商家处理")
    aftersale_no = shopper.url.rsplit("/", 1)[-1]

    # --- the shop approves to its return address ------------------------------------------------
    merchant.goto("/merchant/aftersales")
    merchant.locator(f"#aftersale-{aftersale_no}").get_by_role("link", name="处理").click()
    expect(merchant.locator(".evidence-thumb img")).to_have_count(1)
    expect(merchant.locator("main")).to_contain_text("茶叶受潮结块")
    snap(merchant, "return-merchant-approve")
    merchant.locator("#aftersale-actions").get_by_role("button", name="同意退货").click()
    expect(merchant.locator("#aftersale-status")).to_contain_text("待买家退货")

    # --- the shopper ships it back --------------------------------------------------------------
    shopper.reload()
    main = shopper.locator("main")
    expect(main).to_contain_text("龙井路 8 号")
    shopper.locator("#carrier").select_option("yuantong")
    shopper.locator("#tracking_no").fill("yt5550001111")
    snap(shopper, "return-ship-back")
    shopper.get_by_role("button", name="提交物流信息").click()
    expect(main).to_contain_text("待商家收货")

    # --- the shop confirms the parcel and restocks: the sandbox refunds at once --------------------
    merchant.reload()
    expect(merchant.locator("#aftersale-return")).to_contain_text("YT5550001111")
    merchant.get_by_label("商品完好，重新入库").check()
    merchant.locator("#aftersale-actions").get_by_role("button", name="确认收货").click()
    confirm(merchant, "确认收货")
    expect(merchant.locator("#aftersale-status")).to_contain_text("已退款")
    # the answer re-renders what it changed: the order closed, the item's refunded units
    expect(merchant.locator("#aftersale-order")).to_contain_text("已关闭")
    expect(merchant.locator("#aftersale-lines tbody td").last).to_have_text("1")
    snap(merchant, "return-merchant-receive")

    shopper.reload()
    expect(main).to_contain_text("已退款")
    expect(main).to_contain_text("128.00")
    snap(shopper, "return-refunded")
    shopper.goto(f"/orders/{order_no}")
    expect(shopper.locator("main")).to_contain_text("已关闭")
    expect(shopper.locator("main")).to_contain_text("已退 1 件")
    snap(shopper, "return-order-closed")

    # --- stock, order, money and commission as before the purchase -------------------------------
    db.session.expire_all()
    assert db.session.get(Sku, sku_id).stock == 8
    order = db.session.scalar(sa.select(Order).where(Order.order_no == order_no))
    assert (order.status, order.refunded_fen, order.items[0].refunded_quantity) == ("closed", 12800, 1)
    assert order.payment.refunded_fen == 12800
    commission = db.session.get(Commission, commission.id)
    assert (commission.status, commission.void_fen) == ("void", 1280)
