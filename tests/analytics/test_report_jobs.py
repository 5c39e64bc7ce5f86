"""Report jobs through a real RQ worker (`run_jobs`): the progress reaching its total a
chunk at a time, the CSV and XLSX files opened back (csv module, openpyxl) and their cells
compared, formula injection neutralised, a shop's file holding only its own rows, the
scope's running limit, bad requests refused with nothing queued, and the daily sweep
deleting old files."""
from __future__ import annotations

import csv
import io
import os
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.accounts.models import User
from app.analytics.reports import files, jobs, registry, services
from app.core import tracked_jobs
from app.core.clock import travel, utcnow
from app.core.db import transaction
from app.core.errors import Conflict, ValidationError
from app.core.jobs import get_queue
from app.core.tracked_jobs import JobStatus, TrackedJob
from app.extensions import db
from tests.analytics.test_figures import at, shanghai

DEC_8 = shanghai(2026, 12, 8, 12, 0)
FIRST, LAST = date(2026, 12, 1), date(2026, 12, 7)
HYPERLINK = '=HYPERLINK("http://evil.example/?leak","点我领券")'


def ask(report: str, merchant_id: int | None, fmt: str = "csv", first: date = FIRST, last: date = LAST,
        user_id: int | None = None) -> int:
    with at(DEC_8), transaction():
        job = services.request_report(report=report, first=first, last=last, fmt=fmt, merchant_id=merchant_id,
                                      requested_by_id=user_id or _someone(), locale="zh_Hans_CN")
    return job.id


def _someone() -> int:
    user = User(phone=None, email=f"finance-{uuid.uuid4().hex}@example.com", nickname="财务", admin_role="finance")
    db.session.add(user)
    db.session.flush()
    return user.id


def finished(job_id: int) -> TrackedJob:
    db.session.expire_all()
    return db.session.get(TrackedJob, job_id)


def csv_rows(job: TrackedJob) -> list[list[str]]:
    raw = files.path_of(job.result["file"]).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def xlsx_sheet(job: TrackedJob):
    return load_workbook(files.path_of(job.result["file"])).active


def headers(key: str) -> list[str]:
    return [str(c.header) for c in registry.REPORTS[key].columns]


def test_a_shops_order_report_in_both_formats_through_the_worker(shop_sales, run_jobs, monkeypatch):
    monkeypatch.setattr(jobs, "CHUNK", 1)  # one order per chunk: the bar moves twice
    steps: list[int] = []
    advance = tracked_jobs.Progress.advance

    def counting(progress, count=1):
        steps.append(count)
        advance(progress, count)

    monkeypatch.setattr(tracked_jobs.Progress, "advance", counting)
    shop = shop_sales["shop"].id
    as_csv, as_xlsx = ask("orders", shop, "csv"), ask("orders", shop, "xlsx")
    assert finished(as_csv).status == JobStatus.QUEUED
    run_jobs()
    csv_job, xlsx_job = finished(as_csv), finished(as_xlsx)
    for job in (csv_job, xlsx_job):
        assert (job.status, job.done, job.total, job.result["rows"]) == (JobStatus.DONE, 2, 2, 2)
        assert job.result["bytes"] == files.path_of(job.result["file"]).stat().st_size
    assert steps == [1, 1, 1, 1]  # each chunk advanced (and committed) the bar
    assert not list(files.root().glob("*.part"))

    rows = csv_rows(csv_job)
    assert rows[0] == headers("orders")
    late, early = shop_sales["late"], shop_sales["early"]
    assert [r[0] for r in rows[1:]] == [late.order_no, early.order_no]
    assert rows[1][1].startswith("2026-12-05 23:30:") and rows[2][1].startswith("2026-12-06 00:10:")
    assert rows[1][6:] == ["待发货", "2", "198.00", "8.00", "0.00", "206.00", "99.00", "浙江省"]
    assert rows[2][6:] == ["待发货", "3", "149.00", "8.00", "0.00", "157.00", "0.00", "福建省"]
    assert all("****" in r[5] for r in rows[1:])

    sheet = xlsx_sheet(xlsx_job)
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0] == headers("orders") and all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2" and sheet.column_dimensions["A"].width == 22
    assert sheet.auto_filter.ref == "A1:N3"
    money = sheet["I2"]
    assert (money.value, money.number_format, money.data_type) == (198, '"¥"#,##0.00', "n")
    assert isinstance(sheet["B2"].value, datetime) and sheet["B2"].number_format == "yyyy-mm-dd hh:mm:ss"
    # the same cells as the CSV, each in its own type
    for csv_row, xlsx_row in zip(rows[1:], cells[1:], strict=True):
        assert [as_csv_text(value, n) for n, value in enumerate(xlsx_row)] == csv_row


def as_csv_text(value, column: int) -> str:
    kind = registry.REPORTS["orders"].columns[column].kind
    if value is None:
        return ""
    if kind == "money":
        return f"{value:.2f}"
    if kind == "datetime":
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def test_formulas_in_names_are_neutralised(shop_sales, make_product, make_user, place_order, pay_sandbox, run_jobs,
                                           monkeypatch):
    monkeypatch.setattr(services, "RUNNING_LIMIT", 10)
    shop = shop_sales["shop"]
    trap = make_product(merchant=shop, title=HYPERLINK, price_fen=100)
    buyer = make_user(nickname="+cmd|' /C calc'!A0")
    with at(shanghai(2026, 12, 6, 12, 0)):
        assert pay_sandbox(place_order(buyer, [(trap.skus[0].id, 1)])).status_code == 200
    products = [ask("products", shop.id, fmt) for fmt in ("csv", "xlsx")]
    orders = [ask("orders", shop.id, fmt) for fmt in ("csv", "xlsx")]
    daily = ask("daily", shop.id, "csv")
    run_jobs()
    csv_products = csv_rows(finished(products[0]))
    assert [r[1] for r in csv_products if r[0] == str(trap.id)] == ["'" + HYPERLINK]
    sheet = xlsx_sheet(finished(products[1]))
    cell = next(row[1] for row in sheet.iter_rows(min_row=2) if row[0].value == trap.id)
    assert (cell.value, cell.data_type, cell.quotePrefix) == (HYPERLINK, "s", True)  # text, never a formula
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    # a nickname starting with + is masked to "+**", still text
    assert "'+**" in [r[4] for r in csv_rows(finished(orders[0]))]
    assert "+**" in [row[4].value for row in xlsx_sheet(finished(orders[1])).iter_rows(min_row=2)]
    # numbers are not text: a negative net stays a number
    assert ["2026-12-07", "0", "0", "0.00", "99.00", "-99.00", ""] in csv_rows(finished(daily))


def test_a_shops_file_never_holds_another_shops_rows(shop_sales, run_jobs, monkeypatch):
    monkeypatch.setattr(services, "RUNNING_LIMIT", 10)
    shop, other = shop_sales["shop"], shop_sales["other"]
    ids = {name: ask(name, shop.id) for name in ("orders", "products", "daily", "aftersales")}
    run_jobs()
    orders = csv_rows(finished(ids["orders"]))[1:]
    assert {r[3] for r in orders} == {shop.name}  # the other shop's ¥1000 order on the 6th is not here
    assert {r[2] for r in csv_rows(finished(ids["products"]))[1:]} == {shop.name}
    assert [r[3] for r in csv_rows(finished(ids["daily"]))[1:]] == ["0.00"] * 4 + ["206.00", "157.00", "0.00"]
    assert {r[3] for r in csv_rows(finished(ids["aftersales"]))[1:]} == {shop.name}
    platform = ask("orders", None)
    run_jobs()
    assert {r[3] for r in csv_rows(finished(platform))[1:]} == {shop.name, other.name}


def test_a_platform_only_type_is_never_a_shops(shop_sales, run_jobs):
    shop = shop_sales["shop"].id
    for report in ("shops", "commissions", "nope"):
        with pytest.raises(ValidationError) as refused:
            ask(report, shop)
        assert set(refused.value.fields) == {"report"}
    # a row made some other way still cannot get it: the job reads its scope from the row
    with transaction():
        forged = tracked_jobs.create("report", "x", merchant_id=shop, requested_by_id=None,
                                     params={"report": "shops", "from": "2026-12-01", "to": "2026-12-07",
                                             "format": "csv"})
    run_jobs()
    job = finished(forged.id)
    assert job.status == JobStatus.FAILED and job.error == "没有这种报表" and not job.result


@pytest.mark.parametrize(("first", "last", "fmt", "field"), [
    (date(2026, 12, 7), date(2026, 12, 1), "csv", "range"),  # reversed
    (date(2026, 12, 1), date(2026, 12, 9), "csv", "range"),  # 9 December is after "today" (the 8th)
    (date(2025, 12, 1), date(2026, 12, 7), "csv", "range"),  # 372 days
    (date(2026, 12, 1), date(2026, 12, 7), "pdf", "format"),
])
def test_bad_requests_are_refused_and_nothing_is_queued(make_merchant, first, last, fmt, field):
    shop = make_merchant()
    with pytest.raises(ValidationError) as refused:
        ask("orders", shop.id, fmt, first, last)
    assert set(refused.value.fields) == {field}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrackedJob)) == 0
    assert get_queue("low").count == 0


def test_at_most_three_reports_at_once_per_shop_and_per_admin(make_merchant, make_user, run_jobs):
    shop, neighbour = make_merchant(), make_merchant()
    for _ in range(services.RUNNING_LIMIT):
        ask("daily", shop.id)
    with pytest.raises(Conflict) as refused:
        ask("daily", shop.id)
    assert refused.value.code == "reports_busy" and "3" in refused.value.message
    ask("daily", neighbour.id)  # another shop has its own limit
    finance, other_finance = make_user(admin_role="finance"), make_user(admin_role="finance")
    for _ in range(services.RUNNING_LIMIT):
        ask("daily", None, user_id=finance.id)
    with pytest.raises(Conflict):
        ask("daily", None, user_id=finance.id)
    ask("daily", None, user_id=other_finance.id)
    run_jobs()
    assert services.busy(shop.id, None) == 0
    ask("daily", shop.id)  # finished ones no longer count


def test_a_report_too_long_for_one_file_fails_with_a_reason(shop_sales, run_jobs, monkeypatch):
    monkeypatch.setattr(jobs, "MAX_ROWS", 1)
    job_id = ask("orders", shop_sales["shop"].id)
    run_jobs()
    job = finished(job_id)
    assert job.status == JobStatus.FAILED and "请缩短时间范围" in job.error
    assert not list(files.root().glob("*"))


def test_the_daily_sweep_deletes_old_files(shop_sales, run_jobs):
    shop = shop_sales["shop"].id
    old, recent = ask("daily", shop), ask("orders", shop, "xlsx")
    run_jobs()
    old_path = files.path_of(finished(old).result["file"])
    db.session.execute(sa.update(TrackedJob).where(TrackedJob.id == old)
                       .values(finished_at=utcnow() - timedelta(days=8)))
    stale_part = files.root() / ("0" * 32 + ".csv.part")
    stale_part.write_text("half")
    fresh_part = files.root() / ("1" * 32 + ".csv.part")
    fresh_part.write_text("being written")
    day_ago = (utcnow() - timedelta(days=2)).timestamp()
    os.utime(stale_part, (day_ago, day_ago))
    db.session.commit()
    get_queue("low").enqueue(services.expire_old_reports)
    run_jobs()
    expired, kept = finished(old), finished(recent)
    assert not old_path.exists() and expired.result == {"rows": 7, "bytes": expired.result["bytes"],
                                                        "format": "csv", "expired": True}
    assert services.downloadable(expired) is None
    assert services.downloadable(kept) is not None and Path(files.path_of(kept.result["file"])).exists()
    assert not stale_part.exists() and fresh_part.exists()
    # run again, or with the setting lowered: nothing twice, the recent one goes only when it is old enough
    with transaction():
        assert services.expire_old_reports() == {"expired": 0, "stale_parts": 0}
    with travel(timedelta(days=8)), transaction():
        assert services.expire_old_reports()["expired"] == 1
    assert services.downloadable(finished(recent)) is None


def test_keys_name_only_our_files(app):
    assert files.path_of("../../etc/passwd") is None and files.path_of("a" * 32 + ".exe") is None
    assert files.path_of(None) is None
    assert files.path_of("ab" * 16 + ".xlsx") == files.root() / ("ab" * 16 + ".xlsx")
