"""A first visit in Chromium with the page cache on: the product page comes as the copy
shared by visitors without a session (no CSRF token in it, no cookie set); 加入购物车 asks
for a token first (app.js), so the shopper lands on sign-in with the choice remembered,
and after signing in it is in the cart."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.factories import PASSWORD

pytestmark = pytest.mark.live_db


@pytest.fixture
def page_cache_on(live_server, monkeypatch):
    monkeypatch.setitem(live_server.app.config, "PAGE_CACHE_ENABLED", True)
    live_server.app.extensions["page_copies"].forget()
    yield
    live_server.app.extensions["page_copies"].forget()


def test_a_first_visit_adds_to_cart_through_sign_in(page_cache_on, open_context, make_user, make_product):
    product = make_product(title="云南小粒咖啡豆", stocks=(20,))
    make_user(phone="13700008888")
    db.session.commit()
    context = open_context()
    page = context.new_page()
    page.goto(f"/products/{product.id}")
    page.goto(f"/products/{product.id}")  # the second answer is the process's copy
    assert page.locator('meta[name="csrf-token"]').get_attribute("content") == ""
    assert {c["name"] for c in context.cookies()} <= {"aid"}  # nothing but the tracking id, if the beacon ran

    page.locator(".action-buttons").get_by_role("button", name="加入购物车").click()
    sheet = page.locator("#spec-sheet")
    expect(sheet).to_be_visible()
    with page.expect_response(re.compile(r"/csrf-token$")) as token_answer:
        sheet.get_by_role("button", name="加入购物车").click()
    assert token_answer.value.ok
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.locator("#toasts .toast", has_text="登录后商品会自动加入购物车")).to_be_visible()

    page.locator("#account").fill("13700008888")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/products/{product.id}\b"))
    expect(page.locator("#cart-badge-tab")).to_have_text("1")
