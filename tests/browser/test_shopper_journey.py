"""A shopper's first visit and an operator's ban, in Chromium against the live server.

The shopper registers by phone (SMS code from the console outbox), signs out and in
again, adds an address with the region picker; an admin in another browser finds
them, bans them through the confirm dialog, and the shopper's next page is the
sign-in page. Screenshots of every main page at phone and desktop size.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, MOBILE, SCREENSHOTS

pytestmark = pytest.mark.live_db

SHOPPER_PHONE = "13612345678"
SHOPPER_PASSWORD = "walk2shop"
ADMIN_PHONE = "13800009999"
ADMIN_PASSWORD = "admin2024x"


def path_is(path: str) -> re.Pattern:
    """A URL whose path is exactly `path` (any query string)."""
    return re.compile(rf"^https?://[^/]+{re.escape(path)}(\?.*)?$")


def sign_in(page: Page, account: str, password: str, next_path: str | None = None) -> None:
    page.goto("/login" + (f"?next={next_path}" if next_path else ""))
    page.locator("#account").fill(account)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()


def toast(page: Page, text: str):
    """A toast once Bootstrap has finished showing it (not mid fade-in)."""
    return page.locator("#toasts .toast.show:not(.showing)", has_text=text)


def test_shopper_registers_adds_an_address_and_is_signed_out_when_banned(open_context, live_server, make_user, snap):
    shopper = open_context().new_page()

    # --- register by phone -----------------------------------------------------------
    shopper.goto("/register")
    expect(shopper.get_by_role("heading", name="注册新账号")).to_be_visible()
    snap(shopper, "register")
    for path, heading in (("/privacy", "隐私政策"), ("/terms", "用户协议")):
        shopper.goto(path)
        expect(shopper.locator(".topbar-title")).to_have_text(heading)
        expect(shopper.locator(".legal-text")).to_be_visible()
        snap(shopper, path.strip("/"))
    shopper.goto("/register")
    shopper.locator("#phone").fill(SHOPPER_PHONE)
    sms_button = shopper.get_by_role("button", name="获取验证码")
    sms_button.click()  # an HTMX post: the button comes back counting down
    expect(shopper.locator("#sms-status")).to_have_text("验证码已发送")
    expect(shopper.locator("#htmx-progress")).to_have_class(re.compile(r"\bdone\b"))  # the top bar ran and finished
    expect(shopper.locator("button.sms-btn")).to_be_disabled()
    expect(shopper.locator("button.sms-btn")).to_have_text(re.compile(r"^\d+s$"))
    code = live_server.outbox.last_code(SHOPPER_PHONE)
    shopper.locator("#code").fill(code)
    shopper.locator("#password").fill(SHOPPER_PASSWORD)
    expect(shopper.locator("#agree_terms")).not_to_be_checked()  # consent is never pre-ticked
    shopper.get_by_role("button", name="注册", exact=True).click()
    expect(shopper.locator(".consent-check .invalid-feedback")).to_have_text("请阅读并同意《用户协议》和《隐私政策》")
    shopper.locator("#password").fill(SHOPPER_PASSWORD)  # a refused form does not send the password back
    shopper.locator("#agree_terms").check()
    snap(shopper, "register-filled")
    shopper.get_by_role("button", name="注册", exact=True).click()

    expect(shopper).to_have_url(path_is("/me"))
    expect(toast(shopper, "注册成功")).to_be_visible()
    expect(shopper.locator(".me-header")).to_contain_text("136 1234 5678")  # the `phone` filter's 3-4-4
    snap(shopper, "me")

    # --- sign out, browse, sign in with the password -----------------------------------
    shopper.get_by_role("button", name="退出登录").click()
    expect(shopper).to_have_url(path_is("/"))
    expect(toast(shopper, "已退出登录")).to_be_visible()
    expect(shopper.locator(".shop-topbar").get_by_role("link", name="登录")).to_be_visible()
    snap(shopper, "home")
    shopper.get_by_role("navigation", name="主导航").get_by_role("link", name="分类").click()
    expect(shopper).to_have_url(path_is("/categories"))
    snap(shopper, "categories")
    shopper.get_by_role("navigation", name="主导航").get_by_role("link", name="购物车").click()
    expect(shopper).to_have_url(path_is("/cart"))
    snap(shopper, "cart")

    response = shopper.goto("/no-such-page")
    assert response is not None and response.status == 404
    expect(shopper.locator(".error-page")).to_contain_text("页面不存在")
    snap(shopper, "error-404")

    shopper.goto("/login")
    snap(shopper, "login")
    sign_in(shopper, SHOPPER_PHONE, SHOPPER_PASSWORD)
    expect(shopper).to_have_url(path_is("/me"))
    expect(toast(shopper, "登录成功")).to_be_visible()

    # --- add an address with the region picker ------------------------------------------
    shopper.get_by_role("link", name="收货地址").click()
    expect(shopper).to_have_url(path_is("/me/addresses"))
    expect(shopper.get_by_text("还没有收货地址")).to_be_visible()
    snap(shopper, "addresses-empty")
    shopper.get_by_role("link", name="新增收货地址").click()
    expect(shopper).to_have_url(path_is("/me/addresses/new"))
    shopper.locator("#recipient").fill("林小姐")
    shopper.locator("#phone").fill(SHOPPER_PHONE)
    shopper.locator("select[name=province_code]").select_option("440000")
    city = shopper.locator("#city-select")
    expect(city.locator("option[value='440300']")).to_have_count(1)  # the cities arrived over HTMX
    city.select_option("440300")
    district = shopper.locator("#district-select")
    expect(district.locator("option[value='440305']")).to_have_count(1)
    district.select_option("440305")
    shopper.locator("#detail").fill("科技园南区 8 栋 1201")
    shopper.locator("#is_default").check()
    snap(shopper, "address-form")
    shopper.get_by_role("button", name="保存").click()

    expect(shopper).to_have_url(path_is("/me/addresses"))
    card = shopper.locator(".address-card", has_text="林小姐")
    expect(card).to_contain_text("广东省")
    expect(card).to_contain_text("深圳市")
    expect(card).to_contain_text("南山区 科技园南区 8 栋 1201")
    expect(card.locator(".tag", has_text="默认")).to_be_visible()
    snap(shopper, "addresses")
    shopper.goto("/messages")
    expect(shopper.locator("main")).to_be_visible()
    snap(shopper, "messages")

    # --- an admin bans the shopper from another browser ----------------------------------
    make_user(phone=ADMIN_PHONE, password=ADMIN_PASSWORD, nickname="巡检管理员", admin_role="super")
    admin = open_context(viewport=DESKTOP).new_page()
    sign_in(admin, ADMIN_PHONE, ADMIN_PASSWORD, next_path="/admin/")
    expect(admin).to_have_url(path_is("/admin/"))
    expect(admin.locator(".kpi-card").first).to_be_visible()
    snap(admin, "admin-dashboard")
    # the chart's tooltip draws without a CSP refusal (the open_context fixture fails on any)
    admin.locator("#signup-chart canvas").first.hover()
    admin.set_viewport_size(MOBILE)  # on a phone the sidebar slides in from the menu button
    admin.get_by_role("button", name="菜单").click()
    sidebar = admin.locator("#bo-sidebar")
    expect(sidebar).to_have_class(re.compile(r"\bshow\b"))
    expect(sidebar.get_by_role("link", name="用户管理")).to_be_visible()
    admin.screenshot(path=str(SCREENSHOTS / "admin-sidebar-390.png"), animations="disabled")
    sidebar.get_by_role("button", name="关闭").click()
    expect(sidebar).not_to_have_class(re.compile(r"\bshow\b"))
    admin.set_viewport_size(DESKTOP)

    admin.locator(".bo-sidebar").get_by_role("link", name="用户管理").click()
    expect(admin).to_have_url(path_is("/admin/users"))
    snap(admin, "admin-users")
    admin.get_by_role("searchbox", name="搜索用户").fill(SHOPPER_PHONE)
    admin.get_by_role("button", name="搜索").click()
    rows = admin.locator("#users-table tbody tr")
    expect(rows).to_have_count(1)  # the table swapped in place, only the shopper left
    expect(rows.first).to_contain_text("136 1234 5678")
    expect(admin).to_have_url(re.compile(r"/admin/users\?q=" + SHOPPER_PHONE))
    rows.first.get_by_role("link", name="详情").click()

    expect(admin).to_have_url(re.compile(r"/admin/users/\d+$"))
    status = admin.locator("#user-status")
    expect(status.locator(".status-badge")).to_have_text("正常")
    expect(admin.get_by_text("南山区 科技园南区 8 栋 1201")).to_be_visible()
    snap(admin, "admin-user-detail")
    admin.locator("#reason").fill("多次恶意下单后拒收")
    status.get_by_role("button", name="封禁").click()
    modal = admin.locator("#confirm-modal")
    expect(modal).to_be_visible()
    expect(modal).to_contain_text("将立即在所有设备上退出登录")
    snap(admin, "admin-ban-confirm")
    modal.get_by_role("button", name="封禁").click()  # the confirm button names the action

    expect(modal).to_be_hidden()
    expect(status.locator(".status-badge")).to_have_text("已封禁")
    expect(status).to_contain_text("多次恶意下单后拒收")
    expect(toast(admin, "已封禁")).to_be_visible()
    snap(admin, "admin-user-banned")

    # --- the shopper's next page load is signed out ---------------------------------------
    shopper.reload()
    expect(shopper).to_have_url(re.compile(r"/login\?next="))
    expect(shopper.get_by_role("heading", name="登录")).to_be_visible()
    snap(shopper, "signed-out-after-ban")
    sign_in(shopper, SHOPPER_PHONE, SHOPPER_PASSWORD)
    expect(shopper).to_have_url(path_is("/login"))
    expect(shopper.locator(".invalid-feedback, #toasts .toast").first).to_be_visible()
