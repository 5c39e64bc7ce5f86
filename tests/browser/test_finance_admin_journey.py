"""财务 in Chromium against the live server: a finance admin opens the dashboard (a month of
sales and a refund: the tiles and the daily chart of money in and refunds), goes to 对账,
reconciles today with a WeChat bill that holds one trade we never recorded, sees that one
difference with what to do, and marks it handled with a note over HTMX. Screenshots of the
dashboard and of the differences page at 390 and 1440 px."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.aftersales import platform as aftersale_platform
from app.core.db import transaction
from app.extensions import db
from app.orders.models import Order
from app.web.date_ranges import today
from tests.browser.helpers import sign_in
from tests.browser.test_sales_dashboards import month_of_sales  # noqa: F401  (a fixture)
from tests.finance.test_reconciliation import WECHAT_HEADER

pytestmark = pytest.mark.live_db


def extra_row_bill() -> bytes:
    cells = [f"{today().isoformat()} 10:00:00", "wx8888888888888888", "1900000109", "0", "", "4200000099202612070000000001",
             "P_NOT_OURS_0001", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "JSAPI", "SUCCESS", "OTHERS", "CNY", "58.00", "0.00", "0", "0",
             "0.00", "0.00", "", "", "测试商品", "", "0.35000", "0.60%", "58.00", "0.00", ""]
    return "\r\n".join([WECHAT_HEADER, ",".join("`" + c for c in cells),
                        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额",
                        "`1,`58.00,`0.00,`0.00,`0.35000,`58.00,`0.00", ""]).encode("utf-8")


def test_finance_reads_the_dashboard_and_reconciles_a_day(open_context, month_of_sales, make_user, run_jobs,  # noqa: F811
                                                          snap, tmp_path):
    make_user(phone="13655554444", nickname="财务小李", admin_role="finance")
    order = db.session.query(Order).order_by(Order.id.desc()).first()
    with transaction():  # a refund in the month: the chart's second series
        aftersale_platform.cancel_and_refund(make_user(admin_role="super"), order.order_no, None, "缺货，平台退款")
    run_jobs()
    page = open_context().new_page()
    sign_in(page, "13655554444")
    page.goto("/admin/finance?range=30d")
    expect(page.get_by_role("heading", name="财务概览")).to_be_visible()
    expect(page.locator('[data-tile="money_in"] .kpi-value')).not_to_have_text(re.compile(r"^\s*¥\s*0\.00\s*$"))
    expect(page.locator('[data-tile="refunds"] .kpi-value')).not_to_have_text(re.compile(r"^\s*¥\s*0\.00\s*$"))
    expect(page.locator("[data-finance-chart][data-drawn]")).to_have_count(1)
    expect(page.locator("#latest-runs")).to_contain_text("还没有对账记录")
    snap(page, "finance-dashboard")

    page.locator("#reconciliation-link").click()
    expect(page).to_have_url(re.compile(r"/admin/finance/reconciliation$"))
    page.locator("#reconcile-day").fill(today().isoformat())
    bill = tmp_path / "wechat_bill.csv"
    bill.write_bytes(extra_row_bill())
    page.locator("#wechat-bill").set_input_files(str(bill))
    page.get_by_role("button", name="开始对账").click()
    expect(page).to_have_url(re.compile(r"/admin/finance/reconciliation/\d+$"))
    expect(page.locator("#difference-count")).to_have_text("1")
    row = page.locator(".difference-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("P_NOT_OURS_0001")
    expect(row.locator(".difference-advice")).to_contain_text("该笔款项我方未入账")
    snap(page, "finance-differences")

    row.locator("input[name=note]").fill("支付平台测试交易，已核实无需入账")
    row.get_by_role("button", name="标记已处理").click()
    expect(row.locator("[data-handled]")).to_be_visible()
    expect(row).to_contain_text("财务小李")
    expect(page.locator(".toast", has_text="已标记为已处理")).to_be_visible()
    snap(page, "finance-differences-handled")
    page.goto("/admin/finance")
    expect(page.locator("#latest-runs")).to_contain_text("1 处已处理")
