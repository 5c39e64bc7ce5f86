"""我的: the five order shortcuts (待付款 / 待发货 / 待收货 / 待评价 / 售后) sit on one
row at phone width, each label on one line, in Chinese and in English, with a
badge on a shortcut that has orders. Screenshots: me-shortcuts-zh / me-shortcuts-en."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import MOBILE

pytestmark = pytest.mark.live_db

LAYOUT = """els => els.map(e => {
  const box = e.getBoundingClientRect();
  const label = e.querySelector('.shortcut-label') || e;
  const style = getComputedStyle(label);
  const range = document.createRange();
  range.selectNodeContents(label);
  const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))).size;
  return {top: Math.round(box.top), right: box.right, lines: lines, text: label.innerText.trim()};
})"""


def check_row(page: Page, labels: list[str]) -> None:
    shortcuts = page.locator(".order-shortcuts > *")
    expect(shortcuts).to_have_count(5)
    boxes = shortcuts.evaluate_all(LAYOUT)
    assert [b["text"] for b in boxes] == labels, boxes
    assert len({b["top"] for b in boxes}) == 1, f"the shortcuts wrap onto several rows: {boxes}"
    assert all(b["lines"] == 1 for b in boxes), f"a label breaks over lines: {boxes}"
    assert max(b["right"] for b in boxes) <= MOBILE["width"], boxes


def test_five_order_shortcuts_fit_one_row_at_390_in_chinese_and_english(open_context, make_user, buyer_with_orders,
                                                                         snap):
    make_user(phone="13655590001", password="shortcut123", nickname="五个入口")
    buyer_with_orders("13655590001")
    for lang, labels in (("zh_Hans_CN", ["待付款", "待发货", "待收货", "待评价", "售后"]),
                         ("en", ["To pay", "To ship", "To receive", "To review", "After-sales"])):
        page = open_context(viewport=MOBILE, cookies={"lang": lang}).new_page()
        page.goto("/login?next=/me")
        page.locator("#account").fill("13655590001")
        page.locator("#password").fill("shortcut123")
        page.locator("form:has(#account) button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/me$"))
        expect(page.locator(".order-shortcuts .unread-badge").first).to_have_text("1")
        page.locator(".order-shortcuts").screenshot(path=str(snap_dir() / f"me-shortcuts-row-{lang}.png"))
        snap(page, f"me-shortcuts-{lang}")
        check_row(page, labels)


def snap_dir():
    from tests.browser.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def buyer_with_orders(make_product, place_order):
    """An unpaid order for the user with `phone`, so a badge shows."""
    import sqlalchemy as sa

    from app.accounts.models import User
    from app.extensions import db

    def make(phone: str) -> None:
        buyer = db.session.scalar(sa.select(User).where(User.phone == "+86" + phone))
        place_order(buyer, [(make_product(stocks=(5,)).skus[0].id, 1)])

    return make
