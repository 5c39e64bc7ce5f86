"""The merchant 报表 page (/merchant/stats/reports): the form offers the shop's types only,
a report asked for appears first in the history polling its progress, runs in the worker
and is downloaded as an attachment with a Chinese file name; another shop's member gets a
404 for its poll and its file, a platform report is never reachable from here; bad input
is shown under its field with nothing queued; three reports at once at most; a fixed
number of queries whatever the history holds."""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from app.core import tracked_jobs
from app.core.db import transaction
from app.core.jobs import get_queue
from app.core.tracked_jobs import JobStatus, TrackedJob
from app.extensions import db
from app.merchants.models import MerchantMember
from tests.analytics.test_figures import at
from tests.web.helpers import text, toast
from tests.web.merchant.test_stats_page import DEC_8, owner_of

PAGE = "/merchant/stats/reports"
ORDERS_WEEK = {"report": "orders", "range": "custom", "from": "2026-12-01", "to": "2026-12-07", "format": "csv"}


def get(client, url, **headers):
    with at(DEC_8):
        return client.get(url, headers=headers)


def post(client, data, **headers):
    with at(DEC_8):
        return client.post(PAGE, data=data, headers=headers)


def jobs_of(merchant_id) -> list[TrackedJob]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(TrackedJob).where(TrackedJob.merchant_id == merchant_id)
                                   .order_by(TrackedJob.id)))


def test_the_form_offers_the_shops_types_and_the_stats_page_links_here(shop_sales, client, login):
    login(owner_of(shop_sales["shop"]))
    html = text(get(client, PAGE))
    assert re.findall(r'name="report" id="report-(\w+)"', html) == ["orders", "products", "daily", "aftersales"]
    assert re.findall(r'name="range" id="range-(\w+)"', html) == ["today", "yesterday", "7d", "30d", "custom"]
    assert 'id="range-7d" value="7d" checked' in html and 'value="2026-12-02"' in html and 'value="2026-12-08"' in html
    assert 'id="format-xlsx" value="xlsx" checked' in html
    assert "还没有生成过报表" in html
    assert 'id="reports-link" href="/merchant/stats/reports"' in text(get(client, "/merchant/stats"))


def test_a_report_from_the_form_to_the_file(shop_sales, client, login, run_jobs):
    shop = shop_sales["shop"]
    login(owner_of(shop))
    resp = post(client, ORDERS_WEEK, **{"HX-Request": "true"})
    assert resp.status_code == 200 and toast(resp)["level"] == "success"
    html = text(resp)
    assert html.lstrip().startswith('<div id="reports-body"') and "<html" not in html
    job = jobs_of(shop.id)[0]
    assert (job.status, job.params["report"], job.params["from"], job.params["to"]) == (
        JobStatus.QUEUED, "orders", "2026-12-01", "2026-12-07")
    poll = f"{PAGE}/{job.id}/progress"
    first_item = html.split('class="list-group-item report-item"')[1]
    assert f'hx-get="{poll}" hx-trigger="every 1s"' in first_item and "订单明细 2026-12-01 至 2026-12-07" in first_item
    assert "准备中" in text(get(client, poll))

    run_jobs()
    block = text(get(client, poll))
    assert "hx-trigger" not in block and "已完成" in block and "2 行" in block
    download = f"{PAGE}/{job.id}/download"
    assert f'href="{download}"' in block
    resp = get(client, download)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "private, no-store"
    name = quote("订单明细_2026-12-01_2026-12-07.csv")
    assert resp.headers["Content-Disposition"] == (
        f"attachment; filename=\"report-{job.id}.csv\"; filename*=UTF-8''{name}")
    assert resp.headers["Content-Type"].startswith("text/csv")
    body = resp.get_data().decode("utf-8-sig")
    assert shop_sales["late"].order_no in body and shop.name in body and shop_sales["other"].name not in body
    # the plain form post works too: back to the page, the new report on top
    resp = post(client, {**ORDERS_WEEK, "format": "xlsx", "report": "daily", "range": "30d"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(PAGE)
    newest = jobs_of(shop.id)[-1]
    assert (newest.params["report"], newest.params["from"], newest.params["to"], newest.params["format"]) == (
        "daily", "2026-11-09", "2026-12-08", "xlsx")
    page = text(get(client, PAGE))
    assert page.index(f'id="tracked-job-{newest.id}"') < page.index(f'id="tracked-job-{job.id}"')
    assert "报表已开始生成" in page  # the flash


def test_another_shops_member_gets_404_and_a_platform_report_is_not_here(shop_sales, client, login, make_user,
                                                                         run_jobs):
    shop, other = shop_sales["shop"], shop_sales["other"]
    login(owner_of(shop))
    post(client, ORDERS_WEEK)
    with transaction():
        platform = tracked_jobs.create("report", "店铺排行", merchant_id=None, requested_by_id=None,
                                       params={"report": "shops", "from": "2026-12-01", "to": "2026-12-07",
                                               "format": "csv"})
    run_jobs()
    mine = jobs_of(shop.id)[0]
    assert get(client, f"{PAGE}/{mine.id}/download").status_code == 200
    for job_id in (platform.id, 999999):
        for what in ("progress", "download"):
            assert get(client, f"{PAGE}/{job_id}/{what}").status_code == 404
    # the other shop's owner, and a member of the other shop who is staff
    staff = make_user()
    db.session.add(MerchantMember(merchant_id=other.id, user_id=staff.id, role="staff"))
    db.session.commit()
    for outsider in (owner_of(other), staff):
        stranger = login(outsider, on=client.application.test_client())
        for what in ("progress", "download"):
            resp = get(stranger, f"{PAGE}/{mine.id}/{what}")
            assert resp.status_code == 404 and shop_sales["late"].order_no not in text(resp)
        assert f"tracked-job-{mine.id}" not in text(get(stranger, PAGE))
    assert "/login" in get(client.application.test_client(), f"{PAGE}/{mine.id}/download").headers["Location"]


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"report": "nope"}, "report", "请选择报表类型"),
    ({"report": "shops"}, "report", "请选择报表类型"),  # the platform's
    ({"report": "commissions"}, "report", "请选择报表类型"),
    ({"report": ""}, "report", "请选择报表类型"),
    ({"from": "2026-12-07", "to": "2026-12-01"}, "range", "结束日期不能早于开始日期"),
    ({"from": "2026-12-01", "to": "2026-12-09"}, "range", "不能选择今天以后的日期"),
    ({"from": "2025-01-01", "to": "2026-12-07"}, "range", "最多可选 366 天"),
    ({"from": "2026-12-1", "to": "x"}, "range", "格式为 年-月-日"),
    ({"range": "90d"}, "range", "请选择时间范围"),
    ({"format": "pdf"}, "format", "请选择文件格式"),
    ({"format": ""}, "format", "请选择文件格式"),
])
def test_bad_input_is_shown_under_its_field_and_nothing_is_queued(shop_sales, client, login, change, field, message):
    shop = shop_sales["shop"]
    login(owner_of(shop))
    resp = post(client, {**ORDERS_WEEK, **change})
    assert resp.status_code == 422
    html = text(resp)
    assert re.search(f'id="report-{field}-error">[^<]*{message}', html)
    assert "is-invalid" in html
    assert jobs_of(shop.id) == [] and get_queue("low").count == 0
    htmx = post(client, {**ORDERS_WEEK, **change}, **{"HX-Request": "true"})
    assert htmx.status_code == 200 and toast(htmx)["level"] == "danger" and f'id="report-{field}-error"' in text(htmx)
    assert jobs_of(shop.id) == []


def test_what_was_typed_is_kept_when_refused(shop_sales, client, login):
    login(owner_of(shop_sales["shop"]))
    html = text(post(client, {**ORDERS_WEEK, "report": "daily", "format": "pdf"}))
    assert 'id="report-daily" value="daily" checked' in html and 'id="range-custom" value="custom" checked' in html
    assert 'name="from" value="2026-12-01"' in html


def test_three_reports_at_once_at_most(shop_sales, client, login, run_jobs):
    shop = shop_sales["shop"]
    login(owner_of(shop))
    for _ in range(3):
        assert post(client, ORDERS_WEEK).status_code == 303
    refused = post(client, ORDERS_WEEK)
    assert refused.status_code == 409 and "已有 3 个报表正在生成" in text(refused)
    htmx = post(client, ORDERS_WEEK, **{"HX-Request": "true"})
    assert toast(htmx) == {"message": "已有 3 个报表正在生成，请等它们完成后再试", "level": "warning"}
    assert len(jobs_of(shop.id)) == 3
    run_jobs()
    assert post(client, ORDERS_WEEK).status_code == 303


def test_the_history_costs_the_same_queries_with_3_or_30_reports(shop_sales, client, login, count_queries):
    shop = shop_sales["shop"]
    owner = owner_of(shop)
    login(owner)

    def add(n):
        for i in range(n):
            db.session.add(TrackedJob(kind="report", title=f"订单明细 {i}", merchant_id=shop.id,
                                      requested_by_id=owner.id, status=JobStatus.DONE, done=5, total=5,
                                      params={"report": "orders", "from": "2026-12-01", "to": "2026-12-07",
                                              "format": "csv"},
                                      result={"file": "a" * 32 + ".csv", "rows": 5, "bytes": 100, "format": "csv"}))
        db.session.commit()

    def queries() -> int:
        db.session.expire_all()
        with count_queries() as statements:
            assert get(client, PAGE).status_code == 200
        return len(statements)

    add(3)
    few = queries()
    add(27)
    assert queries() == few
    html = text(get(client, PAGE + "?page=3"))
    assert "共 30 条" in html and html.count('class="list-group-item report-item"') == 10
    partial = text(get(client, PAGE + "?page=2", **{"HX-Request": "true", "HX-Target": "report-history"}))
    assert partial.lstrip().startswith('<div id="report-history"') and "<html" not in partial
