"""The admin 财务 pages: the dashboard (/admin/finance), the reconciliation runs, a run's
differences with what to do and the handle form (HTMX), and the form that reconciles a day
with uploaded bills. Finance and super admins only: operators, shop owners and buyers are
refused; a run that does not exist is 404."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.core.db import transaction
from app.core.money import fen_to_yuan
from app.extensions import db
from app.finance import reconciliation
from app.finance.reconciliation_models import ReconciliationDifference, ReconciliationRun
from app.finance.reconciliation_states import RunTrigger
from app.payments.models import Payment
from app.web.admin import views_reconciliation
from tests.web.helpers import text, toast
from tests.web.merchant.test_stats_page import owner_of

FIXTURES = Path(__file__).parent / "fixtures"
DASHBOARD, RUNS = "/admin/finance", "/admin/finance/reconciliation"


def tile(html: str, key: str) -> str:
    """The amount on the tile `key`, tags and spaces removed."""
    match = re.search(r'data-tile="' + key + r'">.*?<div class="kpi-value">(.*?)</div>', html, re.S)
    return re.sub(r"<[^>]+>|\s", "", match.group(1))


def bill_with_extra_row(payment: Payment) -> bytes:
    """Today's WeChat bill: the fixture's rows replaced by `payment` and one trade we never had."""
    source = (FIXTURES / "wechat_trade_bill.csv").read_bytes().decode("utf-8").split("\r\n")
    header, first = source[0], source[1]
    ours = first.replace("P202612070001", payment.out_trade_no).replace("4200000001202612070000000001",
                                                                       payment.transaction_id).replace(
        "`99.00", "`" + fen_to_yuan(payment.amount_fen))
    extra = first.replace("P202612070001", "P_EXTRA_0001").replace("4200000001202612070000000001", "4200000009")
    return "\r\n".join([header, ours, extra, ""]).encode("utf-8")


@pytest.fixture
def finance(make_user, login, client):
    return login(make_user(admin_role="finance", nickname="钱会计"))


@pytest.fixture
def paid(sold, make_user):
    return sold(make_user(), price_fen=9900)


def test_the_dashboard_shows_money_in_and_what_is_owed(finance, paid):
    html = text(finance.get(DASHBOARD))
    amount = f"¥{paid.amount_fen // 100}.{paid.amount_fen % 100:02d}"
    assert tile(html, "money_in") == amount and tile(html, "owed_merchants") == amount
    assert tile(html, "refunds") == "¥0.00" and tile(html, "paid_out") == "¥0.00"
    assert tile(html, "held") == amount
    assert 'id="finance-data"' in html and "每日收款与退款" in html
    assert '<div class="bo-nav-group">财务</div>' in html and 'href="/admin/finance/reconciliation"' in html
    # a range with nothing in it says so instead of drawing an empty chart
    empty = text(finance.get(DASHBOARD + "?from=2026-01-01&to=2026-01-07"))
    assert tile(empty, "money_in") == "¥0.00" and 'data-empty="daily"' in empty and "还没有对账记录" in empty
    assert "日期格式" in text(finance.get(DASHBOARD + "?from=x&to=y"))  # falls back, with a notice


def test_finance_reconciles_a_day_with_a_bill_and_handles_the_difference(finance, paid):
    payment = db.session.get(Payment, paid.payment_id)
    with transaction():  # the payment as if WeChat had taken it
        db.session.execute(sa.update(Payment).where(Payment.id == payment.id).values(provider="wechatpay"))
    resp = finance.post(RUNS, data={"day": reconciliation.today().isoformat(),
                                    "wechat_bill": (io.BytesIO(bill_with_extra_row(payment)), "wechat.csv")},
                        content_type="multipart/form-data")
    run = db.session.scalar(sa.select(ReconciliationRun))
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"{RUNS}/{run.id}")
    html = text(finance.get(f"{RUNS}/{run.id}"))
    differences = db.session.scalars(sa.select(ReconciliationDifference)).all()
    [difference] = differences
    assert difference.reference == "P_EXTRA_0001" and 'id="difference-count">1<' in html
    assert "渠道有收款、我方未入账" in html and "该笔款项我方未入账" in html and "wechat.csv" in html
    url = f"/admin/finance/differences/{difference.id}/handle"
    refused = finance.post(url, data={"note": ""}, headers={"HX-Request": "true"})
    assert toast(refused)["level"] == "danger" and "请填写处理说明" in text(refused)
    resp = finance.post(url, data={"note": "渠道测试单，已核实"}, headers={"HX-Request": "true"})
    assert toast(resp)["message"] == "已标记为已处理"
    assert "data-handled" in text(resp) and "钱会计" in text(resp) and "渠道测试单，已核实" in text(resp)
    listing = text(finance.get(RUNS))
    assert "已全部处理" in listing and "钱会计" in listing


@pytest.mark.parametrize(("upload", "words"), [
    ((FIXTURES / "not_a_bill.csv").read_bytes(), "不是微信支付交易账单"),
    (b"\x00" * 100, "不是 CSV"),
    (b"x" * (views_reconciliation.MAX_UPLOAD_BYTES + 1), "不能超过 9 MB"),
])
def test_a_bad_bill_is_a_form_error_and_runs_nothing(finance, upload, words):
    resp = finance.post(RUNS, data={"day": reconciliation.today().isoformat(),
                                    "wechat_bill": (io.BytesIO(upload), "bill.csv")}, content_type="multipart/form-data")
    assert resp.status_code == 422 and words in text(resp) and "is-invalid" in text(resp)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReconciliationRun)) == 0


@pytest.mark.parametrize("day", ["", "2026-02-30", "next week", "2999-01-01"])
def test_a_bad_day_is_a_form_error(finance, day):
    resp = finance.post(RUNS, data={"day": day})
    assert resp.status_code == 422 and 'id="reconcile-day"' in text(resp) and "invalid-feedback" in text(resp)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReconciliationRun)) == 0


def test_the_runs_list_runs_a_fixed_number_of_queries(finance, make_user, count_queries):
    def runs(n: int) -> None:
        with transaction():
            for _ in range(n):
                reconciliation.reconcile(reconciliation.today(), actor=make_user(admin_role="finance"),
                                         trigger=RunTrigger.ADMIN)

    runs(1)
    finance.get(RUNS)
    with count_queries() as one:
        assert finance.get(RUNS).status_code == 200
    runs(11)
    with count_queries() as twelve:
        html = text(finance.get(RUNS))
    assert len(twelve) == len(one) and html.count('class="run-row"') == 12
    with count_queries() as dashboard_one:
        finance.get(DASHBOARD)
    runs(3)
    with count_queries() as dashboard_more:
        finance.get(DASHBOARD)
    assert len(dashboard_more) == len(dashboard_one)


def test_operators_merchants_and_buyers_are_refused(app, paid, make_user, login):
    finance = login(make_user(admin_role="finance"), on=app.test_client())
    with transaction():
        run = reconciliation.reconcile(reconciliation.today(), trigger=RunTrigger.CLI)
        db.session.add(ReconciliationDifference(run_id=run.id, kind="balance_mismatch", reference="platform_fees"))
    difference = db.session.scalar(sa.select(ReconciliationDifference))
    for who in (make_user(admin_role="operator"), owner_of(paid.merchant), make_user()):
        other = login(who, on=app.test_client())
        for path in (DASHBOARD, RUNS, f"{RUNS}/{run.id}"):
            assert other.get(path).status_code == 403, (who.admin_role, path)
        assert other.post(RUNS, data={"day": reconciliation.today().isoformat()}).status_code == 403
        assert other.post(f"/admin/finance/differences/{difference.id}/handle", data={"note": "x"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReconciliationRun)) == 1
    assert db.session.get(ReconciliationDifference, difference.id).handled_at is None
    operator = login(make_user(admin_role="operator"), on=app.test_client())
    assert "/admin/finance" not in text(operator.get("/admin/"))
    assert app.test_client().get(DASHBOARD).status_code == 302  # to the sign-in page
    # what does not exist is 404
    assert finance.get(f"{RUNS}/999999").status_code == 404
    assert finance.post("/admin/finance/differences/999999/handle", data={"note": "x"}).status_code == 404
    # super admins see it all
    boss = login(make_user(admin_role="super"), on=app.test_client())
    assert boss.get(f"{RUNS}/{run.id}").status_code == 200 and boss.get(DASHBOARD).status_code == 200
