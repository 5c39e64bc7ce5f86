"""A shop is born, in Chromium against the live server: a user applies with
uploads, an admin rejects with a reason, the user fixes and resubmits, the admin
approves, and the new owner opens the console and invites a member of staff.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP
from tests.browser.helpers import confirm, sign_in
from tests.factories import png_bytes

pytestmark = pytest.mark.live_db


def upload(page: Page, field: str) -> None:
    page.locator(f"input[name={field}]").set_input_files(
        {"name": f"{field}.png", "mimeType": "image/png", "buffer": png_bytes((480, 320))}
    )


def test_apply_reject_resubmit_approve_and_invite_staff(open_context, make_user, snap):
    applicant = make_user(phone="13655550001", nickname="开店的小林")
    make_user(phone="13800007777", admin_role="operator", nickname="审核员")
    make_user(phone="13655550002", nickname="店员小吴")

    # --- the application ------------------------------------------------------------
    me = open_context().new_page()
    sign_in(me, applicant.local_phone)
    me.goto("/merchant/apply")
    me.get_by_role("link", name="开始申请").click()
    me.locator("#shop_name").fill("小林的花店")
    me.get_by_text("家居家装", exact=True).click()
    me.get_by_text("企业", exact=True).click()
    me.locator("#company_name").fill("杭州小林花艺有限公司")
    me.locator("#credit_code").fill("91350100M000100Y43")
    me.locator("#legal_representative").fill("林小花")
    me.locator("#contact_name").fill("林小花")
    me.locator("#contact_phone").fill("13655550001")
    for field in ("licence", "id_front", "id_back"):
        upload(me, field)
    snap(me, "merchant-apply-form")
    me.get_by_role("button", name="提交审核").click()
    expect(me.get_by_role("heading", name="资料审核中")).to_be_visible()
    snap(me, "merchant-apply-submitted")

    # --- the platform rejects with a reason ------------------------------------------
    admin = open_context(viewport=DESKTOP).new_page()
    sign_in(admin, "13800007777")
    admin.goto("/admin/merchant-applications")
    row = admin.locator("tr", has_text="小林的花店")
    expect(row).to_be_visible()
    snap(admin, "admin-application-queue")
    row.get_by_role("link", name="审核").click()
    admin.locator("#rf-credit_code").check()
    admin.locator("input[name=reason_credit_code]").fill("与营业执照上的代码不一致")
    admin.locator("#reject-note").fill("请核对统一社会信用代码后重新提交")
    snap(admin, "admin-application-detail")
    admin.locator("#decision-panel").get_by_role("button", name="驳回").click()
    confirm(admin, "驳回")
    expect(admin.locator("#decision-panel")).to_contain_text("已驳回")

    # --- the applicant sees the reason by the field, fixes it and resubmits ------------
    me.goto("/merchant/apply")
    expect(me.get_by_text("审核意见：与营业执照上的代码不一致")).to_be_visible()  # next to the field
    snap(me, "merchant-apply-rejected")
    me.locator("#credit_code").fill("91110000600037341L")
    me.get_by_role("button", name="提交审核").click()
    expect(me.get_by_role("heading", name="资料审核中")).to_be_visible()

    # --- the platform approves -----------------------------------------------------
    admin.reload()
    admin.get_by_role("button", name="通过并开店").click()
    confirm(admin, "通过并开店")
    expect(admin.locator("#decision-panel")).to_contain_text("已通过，店铺已开通")

    # --- the new owner runs the shop and invites staff --------------------------------
    me.goto("/merchant/")
    expect(me.get_by_role("heading", name="小林的花店")).to_be_visible()
    snap(me, "merchant-dashboard")
    me.goto("/merchant/staff")
    me.locator("#invite-phone").fill("13655550002")
    me.get_by_role("button", name="添加").click()
    expect(me.locator("#staff-rows")).to_contain_text("店员小吴")
    snap(me, "merchant-staff")

    staff = open_context().new_page()
    sign_in(staff, "13655550002")
    staff.goto("/merchant/")
    expect(staff.get_by_role("heading", name="小林的花店")).to_be_visible()
    expect(staff.get_by_role("link", name="员工管理")).to_have_count(0)  # owner-only pages stay hidden
