"""The admin 数据报表 page (/admin/stats/reports): the platform's reports (every shop's rows,
and the platform-only 店铺排行 and 佣金明细) for finance and super admins
(`reports.export`); operators, who see the dashboards, shoppers and merchants are refused;
a shop's report is not the platform's (404); the download is an XLSX attachment."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.core.db import transaction
from app.core.tracked_jobs import TrackedJob
from app.extensions import db
from tests.analytics.test_figures import at
from tests.web.helpers import text, toast
from tests.web.merchant.test_stats_page import DEC_8, owner_of

PAGE = "/admin/stats/reports"
RANKING = {"report": "shops", "range": "custom", "from": "2026-12-01", "to": "2026-12-07", "format": "xlsx"}


def get(client, url, **headers):
    with at(DEC_8):
        return client.get(url, headers=headers)


def post(client, url, data, **headers):
    with at(DEC_8):
        return client.post(url, data=data, headers=headers)


def platform_jobs() -> list[TrackedJob]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(TrackedJob).where(TrackedJob.merchant_id.is_(None))
                                   .order_by(TrackedJob.id)))


@pytest.mark.parametrize("role", ["finance", "super"])
def test_finance_gets_the_shops_ranking_as_xlsx(shop_sales, client, login, make_user, run_jobs, tmp_path, role):
    login(make_user(admin_role=role, nickname="钱会计"))
    html = text(get(client, PAGE))
    assert re.findall(r'name="report" id="report-(\w+)"', html) == [
        "orders", "products", "daily", "aftersales", "shops", "commissions"]
    resp = post(client, PAGE, RANKING, **{"HX-Request": "true"})
    assert toast(resp)["level"] == "success"
    job = platform_jobs()[0]
    assert "钱会计" in text(resp).split(f'id="tracked-job-{job.id}"')[1]  # who asked, in the history
    run_jobs()
    resp = get(client, f"{PAGE}/{job.id}/download")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "private, no-store"
    assert resp.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''%E5%BA%97%E9%93%BA%E6%8E%92%E8%A1%8C_2026-12-01_2026-12-07.xlsx" in (
        resp.headers["Content-Disposition"])
    path = tmp_path / "ranking.xlsx"
    path.write_bytes(resp.get_data())
    sheet = load_workbook(path).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["排名", "店铺ID", "店铺名称"]
    assert [r[:6] for r in rows[1:]] == [[1, shop_sales["other"].id, shop_sales["other"].name, 1, 1, 1000],
                                         [2, shop_sales["shop"].id, shop_sales["shop"].name, 2, 5, 363]]
    assert sheet["H2"].number_format == "0.00%" and round(sheet["H2"].value, 4) == 0.7337


def test_operators_shoppers_and_merchants_are_refused(shop_sales, client, login, make_user, run_jobs):
    login(make_user(admin_role="finance"))
    post(client, PAGE, RANKING)
    run_jobs()
    job = platform_jobs()[0]
    for who in (make_user(admin_role="operator"), make_user(), owner_of(shop_sales["shop"])):
        other = login(who, on=client.application.test_client())
        assert get(other, PAGE).status_code == 403
        assert post(other, PAGE, RANKING).status_code == 403
        assert get(other, f"{PAGE}/{job.id}/progress").status_code == 403
        assert get(other, f"{PAGE}/{job.id}/download").status_code == 403
    assert len(platform_jobs()) == 1
    # an operator sees the dashboard, without the link to the reports
    operator = login(make_user(admin_role="operator"), on=client.application.test_client())
    stats = text(get(operator, "/admin/stats"))
    assert "reports-link" not in stats and 'href="/admin/stats/reports"' not in stats
    finance = login(make_user(admin_role="finance"), on=client.application.test_client())
    assert 'id="reports-link" href="/admin/stats/reports"' in text(get(finance, "/admin/stats"))


def test_a_shops_report_is_not_the_platforms(shop_sales, client, login, make_user, run_jobs):
    owner = login(owner_of(shop_sales["shop"]))
    post(owner, "/merchant/stats/reports", {**RANKING, "report": "orders"})
    run_jobs()
    shop_job = db.session.scalar(sa.select(TrackedJob).where(TrackedJob.merchant_id == shop_sales["shop"].id))
    admin = login(make_user(admin_role="super"), on=client.application.test_client())
    assert get(admin, f"{PAGE}/{shop_job.id}/download").status_code == 404
    assert get(admin, f"{PAGE}/{shop_job.id}/progress").status_code == 404
    assert f"tracked-job-{shop_job.id}" not in text(get(admin, PAGE))


def test_each_admin_has_three_at_once(client, login, make_user):
    login(make_user(admin_role="finance"))
    for _ in range(3):
        assert post(client, PAGE, RANKING).status_code == 303
    assert post(client, PAGE, RANKING).status_code == 409
    colleague = login(make_user(admin_role="finance"), on=client.application.test_client())
    assert post(colleague, PAGE, RANKING).status_code == 303
    # and both see the platform's whole history
    assert text(get(colleague, PAGE)).count('class="list-group-item report-item"') == 4


def test_an_expired_report_says_so_and_has_no_file(shop_sales, client, login, make_user, run_jobs):
    login(make_user(admin_role="finance"))
    post(client, PAGE, RANKING)
    run_jobs()
    job = platform_jobs()[0]
    job.result = {**{k: v for k, v in job.result.items() if k != "file"}, "expired": True}
    with transaction():
        pass
    assert "文件已过期删除" in text(get(client, f"{PAGE}/{job.id}/progress"))
    assert get(client, f"{PAGE}/{job.id}/download").status_code == 404
