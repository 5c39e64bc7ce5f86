"""注销账号 in the browser: 账号与安全 → the page that says what happens → password,
the box, the confirm dialog → signed out on the home page. A shop owner sees why
they cannot. Screenshots: account-delete, account-delete-blocked, account-deleted."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import confirm, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.live_db


def test_a_shopper_deletes_their_account_and_an_owner_is_told_why_not(open_context, make_user, make_merchant, snap):
    make_user(phone="13655595001", nickname="要注销的人")
    owner = make_user(phone="13655595002")
    make_merchant(owner=owner, name="老王茶庄")

    page = open_context().new_page()
    sign_in(page, "13655595001")
    page.goto("/me/security")
    page.locator("#delete-account-link").click()
    expect(page).to_have_url(re.compile(r"/me/security/delete$"))
    snap(page, "account-delete")
    page.locator("#password").fill(PASSWORD)
    page.locator("#understood").check()
    page.get_by_role("button", name="注销账号").click()
    confirm(page, "确定注销")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("#toasts")).to_contain_text("账号已注销")
    snap(page, "account-deleted")
    page.goto("/me")
    expect(page).to_have_url(re.compile(r"/login"))

    blocked = open_context().new_page()
    sign_in(blocked, "13655595002")
    blocked.goto("/me/security/delete")
    expect(blocked.locator("[data-blocker=owns_shop]")).to_contain_text("「老王茶庄」")
    expect(blocked.locator("#password")).to_have_count(0)
    snap(blocked, "account-delete-blocked")
