"""Customer segments in Chromium against the live server (jobs inline): a shop owner finds
客户分群 from 数据, sees three segments and their chart, writes a message (an empty title
is refused), confirms it for the 8 browsers and watches it sent; an operator sees the
platform's segments, a segment's members with masked phones, and recomputes. Screenshots
at 390 and 1440 px."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.analytics.segments import runs
from app.core.clock import utcnow
from app.core.db import transaction
from app.extensions import db
from app.notifications.models import Message
from tests.analytics.segment_fixtures import plant
from tests.browser.helpers import sign_in

pytestmark = pytest.mark.live_db


@pytest.fixture
def segmented(make_user, make_merchant, make_category, make_product, make_address):
    owner = make_user(phone="13655554444", nickname="分群店主")
    make_user(phone="13655553333", nickname="运营", admin_role="operator")
    planted = plant(make_user, make_merchant, make_category, make_product, make_address, utcnow(), owner=owner)
    with transaction():
        runs.recompute(planted["shop"].id)
        runs.recompute(None)
    return planted


def chart_drawn(page: Page) -> None:
    expect(page.locator('[data-stats-chart="share"]')).to_have_attribute("data-drawn", "1")


def test_a_shop_messages_a_segment_and_the_platform_looks(open_context, segmented, snap):
    page = open_context().new_page()
    sign_in(page, "13655554444")
    page.goto("/merchant/stats")
    page.locator("#segments-link").click()
    expect(page).to_have_url(re.compile(r"/merchant/stats/segments$"))
    expect(page.locator(".segment-card")).to_have_count(3)
    names = page.locator(".segment-name").all_inner_texts()
    assert sorted(names) == sorted(["高价值活跃", "沉睡老客", "只逛不买"])
    chart_drawn(page)
    snap(page, "merchant-segments")

    page.locator('[data-kind="browser"]').get_by_role("link", name="发消息").click()
    page.get_by_role("button", name="下一步").click()
    expect(page.locator(".invalid-feedback").first).to_contain_text("请填写标题")
    snap(page, "merchant-segment-form")
    page.locator("#title").fill("新品耳机到货")
    page.locator("#body").fill("降噪耳机补货啦，本周下单立减 50 元。")
    page.locator("#link").fill("/search?q=耳机")
    page.get_by_role("button", name="下一步").click()
    expect(page.get_by_role("heading", name="确认发送")).to_be_visible()
    expect(page.locator('[data-count="receivers"]')).to_contain_text("8")
    snap(page, "merchant-segment-confirm")
    page.get_by_role("button", name="确认发送").click()
    expect(page).to_have_url(re.compile(r"/merchant/stats/segments#segment-sends$"))
    sent = page.locator(".segment-send").first
    expect(sent.locator('[data-count="sent"]')).to_have_text("8")
    expect(sent).to_contain_text("已完成")
    snap(page, "merchant-segments-sent")
    db.session.expire_all()
    titles = set(db.session.scalars(sa.select(Message.title).where(Message.kind == "marketing")))
    assert titles == {"【分群测试店】新品耳机到货"}

    admin = open_context().new_page()
    sign_in(admin, "13655553333")
    admin.goto("/admin/stats")
    admin.locator("#segments-link").click()
    expect(admin.locator(".segment-card")).to_have_count(3)
    chart_drawn(admin)
    expect(admin.locator("#segment-sends")).to_contain_text("还没有给客户分群发过消息")  # the shop's send is not the platform's
    snap(admin, "admin-segments")
    admin.locator('[data-kind="high_value"]').get_by_role("link", name="成员").click()
    expect(admin.locator("#segment-members tbody tr")).to_have_count(8)
    expect(admin.locator("#segment-members tbody tr").first).to_contain_text("****")
    snap(admin, "admin-segment-members")
    admin.go_back()
    with admin.expect_navigation():  # the job ran inline: the answer reloads the page with the new run
        admin.get_by_role("button", name="重新计算").click()
    admin.wait_for_load_state("networkidle")
    expect(admin.get_by_text("计算于")).to_be_visible()
    chart_drawn(admin)
    expect(admin.locator(".segment-card")).to_have_count(3)
