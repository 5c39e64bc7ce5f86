"""资金 in the merchant console (tiles, the statement of a period, its CSV/XLSX export, the
withdrawal form, history and detail) and the admin 商家提现 queue: each shop sees only its
own money, only the owner asks, only finance reviews, lists run a fixed number of queries."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.core import settings as platform_settings
from app.core.clock import utcnow
from app.core.db import transaction
from app.extensions import db
from app.finance import ledger
from app.finance import merchant_withdrawals as withdrawals
from app.finance.models import MerchantWithdrawal
from app.finance.states import AccountKind, TransactionKind
from app.merchants.models import MerchantMember
from app.orders.models import Order
from tests.finance.funds import collect, fund, settle

ALIPAY = {"method": "alipay", "account_name": "鲜果铺有限公司", "account_no": "shop@example.com"}


def owner_of(merchant):
    return db.session.scalar(sa.select(MerchantMember).where(MerchantMember.merchant_id == merchant.id,
                                                             MerchantMember.role == "owner")).user


@pytest.fixture
def shop(make_merchant):
    """A shop with ¥500 to withdraw (after a ¥25 fee) and ¥80 pending."""
    merchant = make_merchant(name="鲜果铺")
    with transaction():
        fund(merchant.id, 50_000, pending_fen=8_000, fee_fen=2_500)
    return merchant


@pytest.fixture
def as_owner(client, login, shop):
    return login(owner_of(shop))


# --- the page -------------------------------------------------------------------------------

def test_the_tiles_show_pending_available_withdrawn_and_no_debts(as_owner, shop, make_user):
    with transaction():
        w = withdrawals.request(owner_of(shop), shop.id, {"amount": "200", **ALIPAY})
        finance = make_user(admin_role="finance")
    with transaction():
        withdrawals.approve(finance, w.id)
        withdrawals.mark_paid(finance, w.id, "TR-PAGE-01")
    html = as_owner.get("/merchant/funds").get_data(as_text=True)
    assert 'data-tile="pending"' in html and 'data-tile="available"' in html and 'data-tile="withdrawn"' in html
    tiles = html[html.index('id="funds-tiles"'):html.index('id="funds-statement"')]
    assert "80</span><small>.00" in tiles.split('data-tile="available"')[0]  # pending ¥80.00
    assert "300</span><small>.00" in tiles.split('data-tile="available"')[1].split('data-tile="withdrawn"')[0]
    assert "200</span><small>.00" in tiles.split('data-tile="withdrawn"')[1]
    assert 'data-tile="debts"' not in html
    assert 'href="/merchant/funds"' in html  # the nav entry 资金


def test_debts_show_with_their_explanation_when_the_shop_owes(as_owner, shop):
    with transaction():
        ledger.post(TransactionKind.REFUND_STARTED, f"refund-after-settlement:{shop.id}", [
            (ledger.account(AccountKind.MERCHANT_AVAILABLE, shop.id), 50_000),
            (ledger.account(AccountKind.MERCHANT_DEBTS, shop.id), 1_200),
            (ledger.account(AccountKind.REFUNDS), -51_200)])
    html = as_owner.get("/merchant/funds").get_data(as_text=True)
    assert 'data-tile="debts"' in html and "从之后的结算中优先扣回" in html
    assert "12</span><small>.00" in html.split('data-tile="debts"')[1]


def test_the_statement_lists_the_periods_lines_in_the_shops_words(as_owner, shop, make_product, make_user,
                                                                 place_order):
    buyer = make_user()
    sku = make_product(merchant=shop).skus[0]
    payment = place_order(buyer, [(sku.id, 1)])
    order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))
    long_ago = utcnow() - timedelta(days=40)
    with transaction():
        collect(shop.id, 9_900, order_id=order.id, key="ord")
        settle(shop.id, 9_900, 495, order_id=order.id, key="ord")
        collect(shop.id, 777, key="old", effective_at=long_ago)  # outside the last 7 days
        w = withdrawals.request(owner_of(shop), shop.id, {"amount": "100", **ALIPAY})
    with transaction():
        withdrawals.reject(make_user(admin_role="finance"), w.id, "账户信息有误")
    html = as_owner.get("/merchant/funds").get_data(as_text=True)
    table = html[html.index('id="statement-table"'):]
    for words in ("订单收款", "订单结算转出", "结算转入可提现", "提现申请", "提现驳回退回", "含平台服务费 ¥4.95",
                  order.order_no, "待结算", "可提现", "+¥99.00", "-¥99.00", "+¥94.05", "-¥100.00", "+¥100.00"):
        assert words in table, words
    assert "¥7.77" not in table
    older = as_owner.get("/merchant/funds?range=30d").get_data(as_text=True)
    assert "¥7.77" not in older
    custom = (utcnow() - timedelta(days=41)).date().isoformat(), (utcnow() - timedelta(days=39)).date().isoformat()
    window = as_owner.get(f"/merchant/funds?from={custom[0]}&to={custom[1]}").get_data(as_text=True)
    assert "+¥7.77" in window and "订单结算转出" not in window


def test_the_range_picker_swaps_only_the_statement(as_owner):
    response = as_owner.get("/merchant/funds?range=30d", headers={"HX-Request": "true", "HX-Target": "funds-statement"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section class="card border-0 shadow-sm" id="funds-statement">')
    assert 'id="funds-tiles"' not in html


def test_a_bad_range_falls_back_with_a_notice(as_owner):
    html = as_owner.get("/merchant/funds?from=2026-13-01&to=x").get_data(as_text=True)
    assert "日期格式应为 年-月-日" in html


def test_the_statement_runs_the_same_queries_for_10_or_50_lines(as_owner, shop, count_queries):
    def lines(n: int) -> int:
        with transaction():
            for _i in range(n):
                collect(shop.id, 100)  # one line each
        with count_queries() as statements:
            html = as_owner.get("/merchant/funds?per_page=100").get_data(as_text=True)
        assert html.count("+¥1.00") >= n
        return len(statements)

    assert lines(10) == lines(40)  # 10 lines of collections, then 50


# --- the export ----------------------------------------------------------------------------

def test_the_csv_export_has_a_bom_and_is_formula_safe(as_owner, shop, make_user):
    with transaction():
        w = withdrawals.request(owner_of(shop), shop.id, {"amount": "100", **ALIPAY})
    with transaction():
        withdrawals.reject(make_user(admin_role="finance"), w.id, "=HYPERLINK(\"http://x\")")
    response = as_owner.get("/merchant/funds/export?format=csv&range=7d")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["时间", "类型", "订单号", "账户", "金额（元）", "其中平台服务费（元）", "备注"]
    kinds = [r[1] for r in rows[1:]]
    assert kinds.count("提现驳回退回") == 1 and "订单结算转出" in kinds
    released = next(r for r in rows if r[1] == "提现驳回退回")
    assert released[4] == "100.00" and released[6] == "'=HYPERLINK(\"http://x\")"
    settled = next(r for r in rows if r[1] == "订单结算转出")
    assert settled[4] == "-525.00" and settled[5] == "25.00"


def test_the_xlsx_export_has_money_as_numbers(as_owner):
    response = as_owner.get("/merchant/funds/export?format=xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("时间", "类型") and len(rows) == 1 + 3  # collection, settlement out and in
    assert sorted(r[4] for r in rows[1:]) == [-525, 500, 605]


def test_another_shops_money_is_never_shown(app, login, shop, make_merchant):
    other = make_merchant(name="隔壁店")
    with transaction():
        fund(other.id, 1_234)
        theirs = withdrawals.request(owner_of(shop), shop.id, {"amount": "100", **ALIPAY})
    c = login(owner_of(other), on=app.test_client())
    page = c.get("/merchant/funds").get_data(as_text=True)
    assert "+¥12.34" in page and "¥605.00" not in page and "¥500.00" not in page
    export = c.get("/merchant/funds/export?format=csv").get_data().decode("utf-8-sig")
    assert "12.34" in export and "605.00" not in export and "100.00" not in export
    assert c.get(f"/merchant/funds/withdrawals/{theirs.id}").status_code == 404
    assert "shop@example.com" not in c.get("/merchant/funds/withdrawals").get_data(as_text=True)
    mine = login(owner_of(shop), on=app.test_client())
    assert mine.get(f"/merchant/funds/withdrawals/{theirs.id}").status_code == 200


# --- withdrawing ------------------------------------------------------------------------------

def test_the_owner_sees_the_fee_then_confirms(as_owner, shop, make_user):
    with transaction():
        platform_settings.put("merchant_withdrawal_fee_bp", "100", make_user(admin_role="super"))
    preview = as_owner.get("/merchant/funds/withdrawals/fee?amount=200").get_data(as_text=True)
    assert "手续费 ¥2.00，实际到账 ¥198.00" in preview
    data = {"amount": "200", **ALIPAY}
    confirm = as_owner.post("/merchant/funds/withdrawals", data=data)
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "确认提现" in html and "¥198.00" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MerchantWithdrawal)) == 0  # a dry run
    done = as_owner.post("/merchant/funds/withdrawals", data={**data, "confirm": "1"})
    assert done.status_code == 302
    withdrawal = db.session.scalar(sa.select(MerchantWithdrawal))
    assert done.headers["Location"].endswith(f"/merchant/funds/withdrawals/{withdrawal.id}")
    assert (withdrawal.amount_fen, withdrawal.fee_fen) == (20_000, 200)
    detail = as_owner.get(done.headers["Location"]).get_data(as_text=True)
    assert "审核中" in detail and "提交申请" in detail


def test_too_much_is_a_form_error_under_the_amount(as_owner, shop):
    response = as_owner.post("/merchant/funds/withdrawals", data={"amount": "600", **ALIPAY})
    assert response.status_code == 422
    assert "可提现余额不足（可提现 ¥500.00）" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MerchantWithdrawal)) == 0


def test_staff_see_the_history_but_may_not_ask(client, login, shop, make_user):
    staff = make_user()
    db.session.add(MerchantMember(merchant_id=shop.id, user_id=staff.id, role="staff"))
    db.session.commit()
    c = login(staff)
    page = c.get("/merchant/funds/withdrawals").get_data(as_text=True)
    assert "只有店主可以申请提现" in page and 'id="withdraw-form"' not in page
    response = c.post("/merchant/funds/withdrawals", data={"amount": "200", "confirm": "1", **ALIPAY})
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MerchantWithdrawal)) == 0
    assert c.get("/merchant/funds").status_code == 200


def test_a_suspended_shop_gets_no_form_and_cannot_post(as_owner, shop):
    shop.status = "suspended"
    db.session.commit()
    page = as_owner.get("/merchant/funds/withdrawals").get_data(as_text=True)
    assert 'id="withdraw-form"' not in page and "暂不能提现" in page
    response = as_owner.post("/merchant/funds/withdrawals", data={"amount": "200", "confirm": "1", **ALIPAY})
    assert response.status_code == 422 and "暂不能提现" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MerchantWithdrawal)) == 0


# --- the admin queue --------------------------------------------------------------------------

@pytest.fixture
def requested(shop):
    with transaction():
        return withdrawals.request(owner_of(shop), shop.id, {"amount": "300", **ALIPAY}).id


def test_finance_approves_then_pays_from_the_chosen_account_over_htmx(client, login, make_user, requested):
    c = login(make_user(admin_role="finance"))
    queue = c.get("/admin/finance/merchant-withdrawals").get_data(as_text=True)
    assert f'id="mw-{requested}"' in queue and "鲜果铺" in queue and "shop@example.com" in queue
    assert "商家提现" in queue
    htmx = {"HX-Request": "true", "HX-Current-URL": "http://localhost/admin/finance/merchant-withdrawals"}
    approved = c.post(f"/admin/finance/merchant-withdrawals/{requested}/approve", headers=htmx)
    assert approved.status_code == 200 and "HX-Trigger" in approved.headers
    row = approved.get_data(as_text=True)
    assert 'name="paid_from"' in row and "沙箱 · 余额 ¥605.00" in row and 'hx-swap-oob="true"' in row
    missing = c.post(f"/admin/finance/merchant-withdrawals/{requested}/paid", data={"transfer_ref": "x"}, headers=htmx)
    assert "请填写转账流水号" in missing.get_data(as_text=True)
    paid = c.post(f"/admin/finance/merchant-withdrawals/{requested}/paid",
                  data={"transfer_ref": "TR-2026-0001", "paid_from": "sandbox"}, headers=htmx)
    assert "TR-2026-0001" in paid.get_data(as_text=True)
    withdrawal = db.session.get(MerchantWithdrawal, requested)
    db.session.refresh(withdrawal)
    assert (withdrawal.status, withdrawal.paid_from) == ("paid", "sandbox")


def test_a_rejection_without_a_reason_is_named_and_works_as_a_plain_post(client, login, make_user, requested):
    c = login(make_user(admin_role="finance"))
    bare = c.post(f"/admin/finance/merchant-withdrawals/{requested}/reject", data={"reason": ""})
    assert bare.status_code == 302
    assert db.session.get(MerchantWithdrawal, requested).status == "requested"
    done = c.post(f"/admin/finance/merchant-withdrawals/{requested}/reject", data={"reason": "户名不符"})
    assert done.status_code == 302 and "status=rejected" in done.headers["Location"]
    db.session.expire_all()
    assert db.session.get(MerchantWithdrawal, requested).status == "rejected"


@pytest.mark.parametrize("role", ["operator", "none"])
def test_only_finance_sees_the_queue_or_acts(client, login, make_user, requested, role):
    c = login(make_user(admin_role=role))
    assert c.get("/admin/finance/merchant-withdrawals").status_code == 403
    for act in ("approve", "reject", "paid"):
        assert c.post(f"/admin/finance/merchant-withdrawals/{requested}/{act}",
                      data={"reason": "x", "transfer_ref": "TR-0001"}).status_code == 403
    assert db.session.get(MerchantWithdrawal, requested).status == "requested"


def test_the_merchant_cannot_reach_the_queue(as_owner, requested):
    assert as_owner.get("/admin/finance/merchant-withdrawals").status_code == 403
    assert as_owner.post(f"/admin/finance/merchant-withdrawals/{requested}/approve").status_code == 403


def test_the_queue_runs_the_same_queries_for_10_or_50_rows(client, login, make_user, make_merchant, count_queries):
    c = login(make_user(admin_role="super"))

    def rows(n: int) -> int:
        for _i in range(n):
            merchant = make_merchant()
            with transaction():
                fund(merchant.id, 20_000)
                withdrawals.request(owner_of(merchant), merchant.id, {"amount": "150", **ALIPAY})
        with count_queries() as statements:
            assert c.get("/admin/finance/merchant-withdrawals?per_page=100").status_code == 200
        return len(statements)

    assert rows(10) == rows(40)
