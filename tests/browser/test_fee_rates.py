"""Finance sets the platform's fee rates in the browser: a category's 服务费 inline in the
category tree (its children show 沿用), a bad rate refused under its field, and a shop's
own rate on the shop's page; an operator sees the rates read-only."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.browser.conftest import DESKTOP
from tests.browser.helpers import sign_in

pytestmark = pytest.mark.live_db


def test_finance_sets_category_and_shop_rates(live_server, open_context, make_user, make_category, make_merchant,
                                              snap):
    make_user(phone="13800007777", admin_role="finance", nickname="财务小李")
    make_user(phone="13800008888", admin_role="operator", nickname="运营小王")
    leaf = make_category(name="绿茶")
    make_category(name="红茶", parent=leaf.parent)
    leaf.parent.name = "茶叶"
    leaf.parent.parent.name = "食品饮料"
    db.session.commit()
    shop = make_merchant(name="老张茶庄")

    page = open_context(viewport=DESKTOP).new_page()
    sign_in(page, "13800007777")
    page.goto("/admin/categories")
    middle = page.locator(f"#category-{leaf.parent_id}")
    middle.locator("input[name=platform_fee]").first.fill("2")
    middle.get_by_role("button", name="保存「茶叶」的服务费率").click()
    expect(page.locator(".toast").last).to_contain_text("已保存「茶叶」的服务费率")
    expect(page.locator(f"#fee-{leaf.id}")).to_have_attribute("placeholder", "2")
    expect(page.locator(f"#fee-help-{leaf.id}")).to_have_text("沿用 2%")
    # a bad rate: the message under the field, what was typed kept
    page.locator(f"#fee-{leaf.id}").fill("1.234")
    page.get_by_role("button", name="保存「绿茶」的服务费率").click()
    expect(page.locator(f"#category-{leaf.id} .invalid-feedback")).to_contain_text("最多两位小数")
    expect(page.locator(f"#fee-{leaf.id}")).to_have_value("1.234")
    snap(page, "admin-categories-fees")

    page.goto(f"/admin/merchants/{shop.id}")
    expect(page.locator("#merchant-fee")).to_contain_text("按商品类目费率")
    page.locator("#platform-fee").fill("8")
    page.locator("#merchant-fee").get_by_role("button", name="保存").click()
    expect(page.locator("#merchant-fee .merchant-fee-current")).to_contain_text("8%")
    snap(page, "admin-merchant-fee")

    operator = open_context(viewport=DESKTOP).new_page()
    sign_in(operator, "13800008888")
    operator.goto("/admin/categories")
    expect(operator.locator(f"#fee-{leaf.parent_id}")).to_be_disabled()
    expect(operator.locator(f"#name-edit-{leaf.id}")).to_be_editable()
    snap(operator, "admin-categories-fees-operator")
    operator.goto(f"/admin/merchants/{shop.id}")
    expect(operator.locator("#merchant-fee")).to_contain_text("8%")
    expect(operator.locator("#platform-fee")).to_have_count(0)
