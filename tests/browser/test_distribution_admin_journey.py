"""分销管理 in Chromium against the live server: an operator types a level-1 rate the
rules refuse (the error under the field, no version saved), saves a valid one (a new
version, and the history shows what changed), then decides two distributor applications
(one approved; one rejected, first without a reason) while the sidebar's count follows;
a finance admin approves a withdrawal and marks it paid, the status tabs' counts and the
sidebar's following each step over HTMX. Screenshots of the rules, the application
queue and the withdrawal queue at 390 and 1440 px."""
# ruff: noqa: F811  (the fixtures are imported, then requested by name)
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.core.db import transaction
from app.distribution import distributors, rules
from app.distribution.models import DistributionRules
from app.extensions import db
from tests.browser.conftest import DESKTOP
from tests.browser.helpers import confirm, sign_in
from tests.distribution.conftest import RULES, set_rules  # noqa: F401  (`requested` needs set_rules)
from tests.web.admin.test_withdrawals_admin import requested  # noqa: F401

pytestmark = pytest.mark.live_db


def versions() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(DistributionRules.id)))


def test_operator_sets_rules_and_reviews_finance_pays_out(open_context, make_user, requested, snap):
    withdrawal, _distributor = requested("20")  # levels 1, fee 1%: ¥20 asked, ¥19.80 to pay
    with transaction():  # from now on becoming a distributor takes an application
        rules.update(make_user(admin_role="super"), {**RULES, "levels": 1, "withdrawal_fee_percent": "1",
                                                     "qualification": "application"})
    with transaction():
        first = distributors.apply(make_user(), {"real_name": "申请人甲", "phone": "13912345678", "reason": "朋友多"})
        second = distributors.apply(make_user(), {"real_name": "申请人乙", "phone": "13912345679", "reason": ""})
    make_user(phone="13655556666", nickname="运营小王", admin_role="operator")
    make_user(phone="13655557777", nickname="财务小李", admin_role="finance")
    saved = versions()

    page = open_context(viewport=DESKTOP).new_page()
    sign_in(page, "13655556666")
    page.goto("/admin/distribution/rules")
    page.locator("#r-level1_percent").fill("120")
    page.get_by_role("button", name="保存规则").click()
    expect(page.locator("#r-level1_percent")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("form[action$=\"/distribution/rules\"]")).to_contain_text("请输入 0 到 100 之间的百分比")
    assert versions() == saved
    page.locator("#r-level1_percent").fill("12.5")
    page.locator("#r-note").fill("双十二提高一级佣金")
    page.get_by_role("button", name="保存规则").click()
    latest = page.locator(".rules-history > li").first
    expect(latest).to_contain_text("双十二提高一级佣金")
    expect(latest).to_contain_text("12.5")
    expect(latest).to_contain_text("生效中")
    assert versions() == saved + 1
    snap(page, "admin-distribution-rules")

    page.goto("/admin/distribution/applications")
    count = page.locator("#nav-badge-admin-distribution_applications")
    expect(count).to_have_text("2")
    page.locator(f"#application-{first.id}").get_by_role("button", name="通过").click()
    confirm(page, "通过")
    expect(page.locator(f"#application-{first.id}")).to_contain_text("已通过")
    expect(count).to_have_text("1")  # the sidebar asked for its counts again
    row = page.locator(f"#application-{second.id}")
    row.get_by_role("button", name="驳回").click()
    expect(row).to_contain_text("请填写驳回原因")
    row.get_by_placeholder("驳回原因").fill("资料不全，请补充")
    row.get_by_role("button", name="驳回").click()
    expect(row).to_contain_text("已驳回")
    expect(count).to_be_hidden()
    snap(page, "admin-distribution-applications")

    finance = open_context(viewport=DESKTOP).new_page()
    sign_in(finance, "13655557777")
    finance.goto("/admin/distribution/withdrawals")
    tabs = finance.locator("#withdrawal-tabs")
    expect(tabs.locator(".nav-link.active .tab-count")).to_have_text("1")
    expect(finance.locator("#nav-badge-admin-distribution_withdrawals")).to_have_text("1")
    row = finance.locator(f"#withdrawal-{withdrawal.id}")
    expect(row).to_contain_text("19.80")
    row.get_by_role("button", name="审核通过").click()
    confirm(finance, "通过")
    expect(row.locator("input[name=transfer_ref]")).to_be_visible()
    expect(tabs.locator(".nav-link.active .tab-count")).to_have_text("0")  # out of band with the row
    expect(tabs.get_by_role("link", name=re.compile("已审核|待打款"))).to_contain_text("1")
    expect(finance.locator("#nav-badge-admin-distribution_withdrawals")).to_be_hidden()
    row.locator("input[name=transfer_ref]").fill("ALI20261207001")
    row.get_by_role("button", name="已打款").click()
    confirm(finance, "确认已打款")
    expect(row).to_contain_text("ALI20261207001")
    expect(finance.locator(".toast", has_text="已登记打款")).to_be_visible()
    expect(tabs.get_by_role("link", name=re.compile("已打款"))).to_contain_text("1")
    snap(finance, "admin-distribution-withdrawals")
