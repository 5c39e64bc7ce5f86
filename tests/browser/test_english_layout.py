"""The English choice (cookie lang=en) keeps every main page laid out: no page
scrolls sideways at phone or desktop width (checked by `snap`), and the pages
say they are English. Screenshots are saved as en-*.png."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.accounts import addresses
from app.core.db import transaction
from tests.browser.conftest import DESKTOP

pytestmark = pytest.mark.live_db

EN = {"lang": "en"}


def sign_in(page: Page, account: str, password: str, next_path: str) -> None:
    """Through the password form, whatever language its labels are in."""
    page.goto(f"/login?next={next_path}")
    page.locator("#account").fill(account)
    page.locator("#password").fill(password)
    page.locator("form:has(#account) button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


def test_english_pages_keep_their_layout(open_context, make_user, snap):
    shopper = make_user(phone="13512340000", password="english123", nickname="A rather long English nickname")
    with transaction():
        addresses.add(shopper.id, {
            "recipient": "Jane Doe-Smithson", "phone": "13512340000", "province_code": "310000",
            "city_code": "310100", "district_code": "310104",
            "detail": "Room 1201, Building 8, 88 North Caoxi Road, a long street address", "is_default": True,
        })
    make_user(phone="13800008888", password="english123", nickname="Operator", admin_role="super")

    page = open_context(cookies=EN).new_page()
    for path, name in [("/", "home"), ("/register", "register"), ("/login", "login"), ("/terms", "terms"),
                       ("/privacy", "privacy")]:
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", "en")
        snap(page, f"en-{name}")

    sign_in(page, "13512340000", "english123", "/me")
    expect(page.locator(".me-header")).to_contain_text("A rather long English nickname")
    expect(page.locator(".menu-list")).to_contain_text("English")
    snap(page, "en-me")
    for path, name in [("/me/addresses", "addresses"), ("/me/addresses/new", "address-form"), ("/me/security", "security")]:
        page.goto(path)
        expect(page.locator("main")).to_be_visible()
        snap(page, f"en-{name}")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    admin = open_context(viewport=DESKTOP, cookies=EN).new_page()
    sign_in(admin, "13800008888", "english123", "/admin/users")
    expect(admin.locator("#users-table tbody tr")).to_have_count(2)
    snap(admin, "en-admin-users")
    admin.goto(f"/admin/users/{shopper.id}")
    expect(admin.locator("#user-status")).to_be_visible()
    snap(admin, "en-admin-user-detail")
