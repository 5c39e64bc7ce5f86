"""数据报表 in Chromium against the live server (jobs run inline there): a shop owner goes
from the 数据 page to 报表, asks for a month of orders as XLSX, sees it done and downloads
it (a Chinese file name, the shop's orders inside); a report still being written shows its
bar and polls until it is done; the platform's finance side asks for the shops' ranking.
Screenshots of both pages at 390 and 1440 px, with a report running and one done."""
from __future__ import annotations

import re
import shutil
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from playwright.sync_api import expect

from app.accounts.models import User
from app.analytics.reports import files
from app.core.clock import utcnow
from app.core.tracked_jobs import JobStatus, TrackedJob
from app.extensions import db
from app.merchants.models import Merchant
from app.web.date_ranges import today
from tests.browser.helpers import sign_in
from tests.browser.test_sales_dashboards import month_of_sales  # noqa: F401  (a fixture)

pytestmark = pytest.mark.live_db


def test_a_shop_and_the_platform_export_reports(open_context, month_of_sales, live_server, snap, tmp_path):  # noqa: F811
    page = open_context().new_page()
    sign_in(page, "13655552222")
    page.goto("/merchant/stats?range=30d")
    page.locator("#reports-link").click()
    expect(page).to_have_url(re.compile(r"/merchant/stats/reports$"))
    expect(page.get_by_role("heading", name="报表")).to_be_visible()
    expect(page.get_by_text("还没有生成过报表")).to_be_visible()
    page.locator("label[for=report-orders]").click()
    page.locator("label[for=range-30d]").click()
    expect(page.locator("#report-from")).to_have_value((today() - timedelta(days=29)).isoformat())  # shown
    page.locator("label[for=format-xlsx]").click()
    # sent from the top of the page (Enter in a field does that): the history is then off screen
    page.evaluate("window.scrollTo({top: 0, behavior: \"instant\"})")
    page.locator("#report-form").evaluate("form => form.requestSubmit()")
    done = page.locator(".report-item").first
    expect(done.locator(".report-download")).to_be_visible()  # written inline, so done at once
    expect(done).to_contain_text("12 行")
    expect(done).to_be_in_viewport()  # on a phone the history, under the form, is brought into view
    expect(page.locator("#report-orders")).not_to_be_checked()  # a fresh form

    with page.expect_download() as downloading:
        done.locator(".report-download").click()
    download = downloading.value
    assert re.fullmatch(r"订单明细_\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}\.xlsx", download.suggested_filename)
    saved = tmp_path / "orders.xlsx"
    download.save_as(saved)
    rows = list(load_workbook(saved).active.iter_rows(values_only=True))
    assert rows[0][0] == "订单号" and len(rows) == 13 and {r[3] for r in rows[1:]} == {"山野茶舍"}

    # a report still being written: its bar, polling, until it is done
    shop = db.session.scalar(sa.select(Merchant).where(Merchant.name == "山野茶舍"))
    owner = db.session.scalar(sa.select(User).where(User.phone == "+8613655552222"))
    finished = db.session.scalar(sa.select(TrackedJob).where(TrackedJob.merchant_id == shop.id))
    running = TrackedJob(kind="report", title="售后明细 2026-11-07 至 2026-12-06", merchant_id=shop.id,
                         requested_by_id=owner.id, status=JobStatus.RUNNING, done=120, total=300,
                         params={"report": "aftersales", "from": "2026-11-07", "to": "2026-12-06", "format": "csv"},
                         started_at=utcnow(), moved_at=utcnow())
    db.session.add(running)
    db.session.commit()
    page.reload()
    block = page.locator(f"#tracked-job-{running.id}")
    expect(block.locator("progress")).to_have_attribute("value", "120")
    expect(block).to_contain_text("已完成 120 / 300（40%）")
    page.evaluate("window.scrollTo({top: 0, behavior: \"instant\"})")  # the sticky top bar where it belongs in a full-page shot
    snap(page, "merchant-reports-running")

    with live_server.app.app_context():
        source = files.path_of(finished.result["file"])
    copy = files.new_key("xlsx")
    shutil.copy(source, source.with_name(copy))
    running.status, running.done = JobStatus.DONE, 300
    running.result = {"file": copy, "rows": 300, "bytes": source.stat().st_size, "format": "xlsx"}
    running.finished_at = utcnow()
    db.session.commit()
    expect(block.locator(".report-download")).to_be_visible()  # the poll brought the finished block
    expect(block).not_to_have_attribute("hx-trigger", re.compile("every"))
    page.evaluate("window.scrollTo({top: 0, behavior: \"instant\"})")
    snap(page, "merchant-reports-done")

    # the platform's finance side: the shops' ranking
    admin = open_context().new_page()
    sign_in(admin, "13655553333")
    admin.goto("/admin/stats")
    admin.locator("#reports-link").click()
    expect(admin).to_have_url(re.compile(r"/admin/stats/reports$"))
    admin.locator("label[for=report-shops]").click()
    admin.locator("label[for=range-custom]").click()
    admin.locator("#report-from").fill("2026-12-07")
    admin.locator("#report-to").fill("2026-12-01")
    admin.get_by_role("button", name="生成报表").click()
    expect(admin.locator("#report-range-error")).to_contain_text("结束日期不能早于开始日期")
    first, last = (today() - timedelta(days=29)).isoformat(), today().isoformat()
    admin.locator("#report-from").fill(first)
    admin.locator("#report-to").fill(last)
    admin.locator("label[for=format-csv]").click()
    admin.get_by_role("button", name="生成报表").click()
    item = admin.locator(".report-item").first
    expect(item.locator(".report-download")).to_be_visible()
    expect(item).to_contain_text(f"店铺排行 {first} 至 {last}")
    expect(item).to_contain_text("2 行")
    for close in admin.locator("#toasts .btn-close").all():  # the two toasts would cover the title
        if close.is_visible():
            close.click()
    admin.evaluate("window.scrollTo({top: 0, behavior: \"instant\"})")
    snap(admin, "admin-reports")
