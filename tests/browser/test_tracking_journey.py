"""Behaviour tracking in Chromium: a shopper looks at the home page, scrolls, opens a
product, adds it to the cart and leaves; track.js's beacons record the page views with
their dwell time, the product's impression and the clicks."""
from __future__ import annotations

import functools
import re
import threading

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.analytics.models import Event
from app.extensions import db
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP
from tests.browser.helpers import sign_in

pytestmark = pytest.mark.live_db

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"


class Beacons:
    """Counts the beacons the live server has answered. Chromium sends them from a page
    being left, so Playwright does not report their responses to the page: the test
    waits on the server's side instead (a condition, notified by the view)."""

    def __init__(self) -> None:
        self.answered = 0
        self.changed = threading.Condition()

    def wrap(self, view):
        @functools.wraps(view)  # the same name and module: CSRF-exempt as the view is
        def counted(*args, **kwargs):
            response = view(*args, **kwargs)  # the batch is committed when the view returns
            with self.changed:
                self.answered += 1
                self.changed.notify_all()
            return response
        return counted

    def wait_for_more_than(self, count: int) -> int:
        with self.changed:
            assert self.changed.wait_for(lambda: self.answered > count, timeout=10), "no beacon arrived"
            return self.answered


@pytest.fixture
def beacons(live_server, monkeypatch) -> Beacons:
    counter = Beacons()
    view = live_server.app.view_functions["shop.track_events"]
    monkeypatch.setitem(live_server.app.view_functions, "shop.track_events", counter.wrap(view))
    return counter


@pytest.fixture
def chrome_page(browser_type, live_server, csp_violations):
    """A page in a Chromium that says it is an ordinary Chrome. Playwright's per-context
    user agent does not reach the beacons a page sends while it is being left (they go
    out with "HeadlessChrome", which the tracking drops as a bot), so this browser is
    launched with --user-agent instead."""
    browser = browser_type.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, f"--user-agent={CHROME}"])
    try:
        context = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="zh-CN",
                                      timezone_id="Asia/Shanghai")
        context.set_default_timeout(10_000)
        context.on("console", lambda m: csp_violations.append(m.text)
                   if m.type == "error" and ("Content Security Policy" in m.text or "Refused to" in m.text) else None)
        yield context.new_page()
    finally:
        browser.close()


def recorded() -> list[Event]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Event).where(Event.type.in_(("page_view", "click", "impression")))
                                   .order_by(Event.id)))


def test_page_views_impressions_and_clicks_are_recorded(chrome_page, make_user, make_product, beacons):
    buyer = make_user(phone="13700007777")
    product = make_product(title="高山绿茶", stocks=(20,))
    db.session.commit()
    page = chrome_page
    sign_in(page, "13700007777")
    seen = beacons.answered

    page.goto("/")
    card = page.locator(f'[data-track-impression="{product.id}"]').first
    card.scroll_into_view_if_needed()
    expect(card).to_be_in_viewport()
    page.wait_for_function("() => performance.now() > 50")  # a visible page has a dwell time
    card.click()
    seen = beacons.wait_for_more_than(seen)  # leaving the home page sent its batch
    expect(page).to_have_url(re.compile(rf"/products/{product.id}$"))

    with page.expect_response(re.compile(r"/cart/add")):
        page.locator("#buy-form").get_by_role("button", name="加入购物车").click()
    page.goto("/terms")
    beacons.wait_for_more_than(seen)

    events = recorded()
    views = [e for e in events if e.type == "page_view"]
    assert {"/", f"/products/{product.id}"} <= {v.path for v in views}
    home_view = next(v for v in views if v.path == "/")
    assert home_view.dwell_ms > 0 and home_view.user_id == buyer.id and home_view.anon_id
    product_view = next(v for v in views if v.product_id == product.id)
    assert product_view.dwell_ms > 0
    impressions = [e for e in events if e.type == "impression"]
    assert [(e.product_id, e.path) for e in impressions] == [(product.id, "/")]  # once, however often it is shown
    clicks = {(e.props.get("name"), e.product_id) for e in events if e.type == "click"}
    assert {("product_card", product.id), ("add_to_cart", product.id)} <= clicks


def test_headless_chrome_as_it_is_counts_as_a_bot(open_context, make_product, beacons):
    make_product()
    db.session.commit()
    page = open_context(viewport=DESKTOP).new_page()
    page.goto("/")
    page.goto("/terms")
    beacons.wait_for_more_than(0)  # taken, and dropped
    assert recorded() == []
