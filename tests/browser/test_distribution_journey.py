"""Distribution from a shared link to a withdrawal, in Chromium against the live server.

A distributor (with a parent above them) copies a product link from the share page;
a friend opens it, registers by phone, buys the product and pays in the sandbox; the
distributor and their parent see pending commissions; the friend confirms receipt;
time passes (the app clock moves) and the settlement sweep runs through a real RQ
worker; the commissions are available and the distributor withdraws them.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.accounts.models import User
from app.core.clock import travel
from app.core.db import transaction
from app.core.jobs import get_queue
from app.distribution.tasks import sweep_settlement
from app.extensions import db
from app.merchants.models import MerchantMember
from app.orders import services as order_services
from app.orders.models import Order
from tests.browser.helpers import sign_in
from tests.distribution.conftest import set_rules  # noqa: F401

pytestmark = pytest.mark.live_db

FRIEND_PHONE = "13655580009"
FRIEND_PASSWORD = "friend2buy"


def available(page: Page):
    """The centre's 可提现 amount."""
    return page.locator("main").get_by_text("可提现", exact=True).locator("xpath=following-sibling::div[1]")


def test_shared_link_registration_purchase_commissions_settle_and_withdraw(
        open_context, live_server, set_rules, make_distributor, make_user, make_product, make_address,  # noqa: F811
        run_jobs, snap):
    set_rules(levels=2, level1_percent="10", level2_percent="5", settlement_delay_days="7",
              withdrawal_min="10", withdrawal_fee_percent="0")
    parent = make_distributor(phone="13655580001", nickname="老王团长")
    sharer = make_distributor(parent=parent, phone="13655580002", nickname="小红的好物铺")
    product = make_product(title="云南古树普洱 357g 饼", price_fen=20000, stocks=(10,))

    # --- the distributor copies the product's link --------------------------------------------------
    distributor = open_context().new_page()
    sign_in(distributor, "13655580002")
    distributor.goto(f"/distributor/share?product_id={product.id}")
    link = distributor.locator("#share-link").input_value()
    assert re.search(rf"/r/{sharer.code}/p/{product.id}$", link), link
    poster = distributor.get_by_role("img", name="分享海报")
    poster.scroll_into_view_if_needed()
    distributor.wait_for_function("img => img.complete && img.naturalWidth === 750", arg=poster.element_handle())
    snap(distributor, "dist-share")

    # --- a friend opens it, registers and buys -------------------------------------------------------
    friend = open_context().new_page()
    friend.goto(link)
    expect(friend).to_have_url(re.compile(rf"/products/{product.id}$"))
    friend.goto("/register")
    friend.locator("#phone").fill(FRIEND_PHONE)
    friend.get_by_role("button", name="获取验证码").click()
    expect(friend.locator("#sms-status")).to_have_text("验证码已发送")
    friend.locator("#code").fill(live_server.outbox.last_code(FRIEND_PHONE))
    friend.locator("#password").fill(FRIEND_PASSWORD)
    friend.locator("#agree_terms").check()
    friend.get_by_role("button", name="注册", exact=True).click()
    expect(friend).to_have_url(re.compile(r"/me$"))
    buyer = db.session.scalar(sa.select(User).where(User.phone == "+86" + FRIEND_PHONE))
    make_address(buyer, recipient="李小姐", phone=FRIEND_PHONE)

    friend.goto(f"/products/{product.id}")
    friend.locator(".action-buttons").get_by_role("button", name="立即购买").click()
    friend.locator("#spec-sheet").get_by_role("button", name="立即购买").click()
    expect(friend).to_have_url(re.compile(r"/checkout"))
    friend.get_by_role("button", name="提交订单").click()
    friend.get_by_role("button", name=re.compile(r"^确认支付 ")).click()
    expect(friend.get_by_role("heading", name="支付成功")).to_be_visible()

    # --- both earners see their pending commission -----------------------------------------------------
    distributor.goto("/distributor/commissions")
    expect(distributor.locator("main")).to_contain_text("¥20.00")
    expect(distributor.locator("main")).to_contain_text("待结算")
    snap(distributor, "dist-commissions-pending")
    upline = open_context().new_page()
    sign_in(upline, "13655580001")
    upline.goto("/distributor/commissions")
    expect(upline.locator("main")).to_contain_text("¥10.00")
    upline.goto("/distributor/team")
    expect(upline.locator("main")).to_contain_text("小红的好物铺")

    # --- shipped and received -----------------------------------------------------------------------
    db.session.expire_all()
    order = db.session.scalar(sa.select(Order).where(Order.buyer_id == buyer.id))
    owner_id = db.session.scalar(sa.select(MerchantMember.user_id).where(
        MerchantMember.merchant_id == order.merchant_id))
    with transaction():
        order_services.ship(owner_id, order.merchant_id, order.order_no, "shunfeng", "SF5500000001")
    friend.goto(f"/orders/{order.order_no}")
    friend.get_by_role("button", name="确认收货").click()
    friend.locator("#confirm-modal-ok").click()
    expect(friend.locator("main")).to_contain_text("已收货")

    # --- a week goes by: still pending on day 6, settled on day 8 ----------------------------------------
    for days, settled in ((6, "¥0.00"), (8, "¥20.00")):
        with travel(timedelta(days=days)):
            get_queue("low").enqueue(sweep_settlement)
            run_jobs()
        distributor.goto("/distributor/")
        expect(available(distributor)).to_have_text(settled)
    snap(distributor, "dist-centre-settled")

    # --- and the distributor withdraws -------------------------------------------------------------------
    distributor.goto("/distributor/withdrawals")
    distributor.locator("input[name=amount]").fill("20")
    distributor.locator("label[for=method-alipay]").click()
    distributor.locator("input[name=account_name]").fill("王小红")
    distributor.locator("input[name=account_no]").fill("xiaohong@example.com")
    distributor.get_by_role("button", name="下一步").click()
    expect(distributor.locator("main")).to_contain_text("¥20.00")
    snap(distributor, "dist-withdraw-confirm")
    distributor.get_by_role("button", name="确认提现").click()
    expect(distributor.locator("main")).to_contain_text("审核")
    distributor.goto("/distributor/")
    expect(available(distributor)).to_have_text("¥0.00")
    snap(distributor, "dist-after-withdraw")
