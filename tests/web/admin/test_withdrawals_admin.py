"""Admin withdrawal queue: status tabs with amount, fee, net and the account;
finance approves, marks paid with the transfer reference, or rejects with a
reason (the amount returns to the balance); an operator (no withdrawals.manage)
and a shopper are refused with nothing changed; the queue's query count is fixed."""
# ruff: noqa: F811  (the distribution fixtures are imported, then requested by name)
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.clock import travel
from app.core.db import transaction
from app.core.models import AuditLog
from app.distribution import commissions, referrals, withdrawals
from app.distribution import queries as distribution_queries
from app.distribution.models import Distributor, Withdrawal
from app.extensions import db
from app.finance import ledger
from app.finance.states import AccountKind
from app.orders import services as order_services
from app.orders.models import Order
from tests.distribution.conftest import set_rules  # noqa: F401
from tests.web.helpers import text, toast

HX = {"HX-Request": "true"}
QUEUE = "/admin/distribution/withdrawals"


def admin_client(app, make_user, login, role="finance"):
    admin = make_user(admin_role=role, nickname=f"{role}管理员")
    c = app.test_client()
    login(admin, on=c)
    return c, admin


def fresh(withdrawal_id) -> Withdrawal:
    db.session.expire_all()
    return db.session.get(Withdrawal, withdrawal_id)


@pytest.fixture
def requested(set_rules, make_distributor, make_user, make_product, place_order, pay_sandbox):
    """`requested(amount="20", **account)` -> a withdrawal asked by a distributor whose 10%
    commission on a ¥200 order settled (so ¥20 available), fee 1%."""
    set_rules(levels=1, withdrawal_fee_percent="1")

    def make(amount="20", method="alipay", **account):
        distributor = make_distributor(nickname="提现人")
        buyer = make_user()
        buyer_id, distributor_id = buyer.id, distributor.id
        with transaction():
            referrals.bind(buyer, distributor.code, "link", is_new_user=True)
        product = make_product(price_fen=20000)
        payment = place_order(buyer, [(product.skus[0].id, 1)])
        payment_id = payment.id
        assert pay_sandbox(payment).status_code == 200
        order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment_id))
        owner_id = db.session.scalar(sa.text("select user_id from merchant_members where merchant_id = :m"),
                                     {"m": order.merchant_id})
        with transaction():
            order_services.ship(owner_id, order.merchant_id, order.order_no, "shunfeng", "SF1234567890")
            order_services.confirm_receipt(buyer_id, order.order_no)
        with travel(timedelta(days=8)):
            for commission_id in commissions.due_ids():
                with transaction():
                    commissions.settle(commission_id)
        data = {"amount": amount, "method": method, "account_name": "张三", "account_no": "zs@example.com", **account}
        distributor = db.session.get(Distributor, distributor_id)
        with transaction():
            withdrawal = withdrawals.request(distributor.user, data)
        return fresh(withdrawal.id), db.session.get(Distributor, distributor_id)

    return make


def test_queue_shows_amount_fee_net_and_account(app, make_user, login, requested):
    w, distributor = requested("20", method="bank", account_no="6222020200112233445", bank_name="工商银行")
    c, _admin = admin_client(app, make_user, login)
    page = text(c.get(QUEUE))
    assert distributor.code in page and "¥20.00" in page and "¥0.20" in page and "¥19.80" in page
    assert "银行卡" in page and "6222020200112233445" in page and "工商银行" in page and "张三" in page
    assert "审核通过" in page
    assert "没有「已打款」的提现申请" in text(c.get(QUEUE, query_string={"status": "paid"}))


def test_finance_approves_then_marks_paid(app, make_user, login, requested):
    w, distributor = requested()
    c, _admin = admin_client(app, make_user, login)
    resp = c.post(f"{QUEUE}/{w.id}/approve", headers=HX)
    assert resp.status_code == 200 and toast(resp)["level"] == "success"
    assert fresh(w.id).status == "approved" and "已打款" in text(resp)  # the row now offers the next step
    resp = c.post(f"{QUEUE}/{w.id}/paid", data={"transfer_ref": ""}, headers=HX)
    assert toast(resp)["level"] == "danger" and "请填写转账流水号" in text(resp) and fresh(w.id).status == "approved"
    resp = c.post(f"{QUEUE}/{w.id}/paid", data={"transfer_ref": "ALI20260101001"})
    assert resp.status_code == 302 and "status=paid" in resp.headers["Location"]
    paid = fresh(w.id)
    assert (paid.status, paid.transfer_ref) == ("paid", "ALI20260101001")
    assert distribution_queries.earnings(distributor.id).withdrawn_fen == 2000
    assert db.session.scalar(sa.select(sa.func.count(AuditLog.id)).where(
        AuditLog.action.in_(("withdrawal.approve", "withdrawal.paid")), AuditLog.target_id == str(w.id))) == 2
    assert "ALI20260101001" in text(c.get(QUEUE, query_string={"status": "paid"}))
    resp = c.post(f"{QUEUE}/{w.id}/approve", headers=HX)
    assert toast(resp)["level"] == "danger" and "状态已变化" in toast(resp)["message"]


def test_finance_rejects_with_a_reason_and_the_balance_returns(app, make_user, login, requested):
    w, distributor = requested()
    assert distribution_queries.earnings(distributor.id).available_fen == 0
    c, _admin = admin_client(app, make_user, login)
    resp = c.post(f"{QUEUE}/{w.id}/reject", data={"reason": " "})
    assert resp.status_code == 302 and fresh(w.id).status == "requested"
    resp = c.post(f"{QUEUE}/{w.id}/reject", data={"reason": ""}, headers=HX)
    assert "请填写驳回原因" in text(resp) and "is-invalid" in text(resp)
    resp = c.post(f"{QUEUE}/{w.id}/reject", data={"reason": "账户名与实名不符"}, headers=HX)
    assert toast(resp)["level"] == "success" and "账户名与实名不符" in text(resp)
    assert (fresh(w.id).status, fresh(w.id).reject_reason) == ("rejected", "账户名与实名不符")
    assert distribution_queries.earnings(distributor.id).available_fen == 2000


def test_operator_and_shopper_are_refused_and_nothing_changes(app, client, make_user, login, requested):
    w, _distributor = requested()
    operator, _admin = admin_client(app, make_user, login, role="operator")
    page = text(operator.get(QUEUE))
    assert "¥20.00" in page and "审核通过" not in page and "等待财务处理" in page
    login(make_user())
    assert client.get(QUEUE).status_code == 403
    for c in (operator, client):
        assert c.post(f"{QUEUE}/{w.id}/approve").status_code == 403
        assert c.post(f"{QUEUE}/{w.id}/reject", data={"reason": "越权"}).status_code == 403
        assert c.post(f"{QUEUE}/{w.id}/paid", data={"transfer_ref": "X1234567"}).status_code == 403
    assert fresh(w.id).status == "requested"
    assert not db.session.scalar(sa.select(sa.func.count(AuditLog.id)).where(AuditLog.action.like("withdrawal.%")))


def test_unknown_withdrawal_is_404(app, make_user, login):
    c, _admin = admin_client(app, make_user, login)
    assert c.post(f"{QUEUE}/999999/approve").status_code == 404


def test_queue_runs_a_fixed_number_of_queries(app, make_user, login, requested, count_queries):
    requested()
    c, _admin = admin_client(app, make_user, login)
    c.get(QUEUE)
    with count_queries() as one:
        c.get(QUEUE)
    for _ in range(4):
        requested()
    with count_queries() as five:
        page = text(c.get(QUEUE))
    assert page.count('id="withdrawal-') - page.count('id="withdrawal-tabs"') == 5  # the rows
    assert len(five) == len(one)


def test_a_row_action_redraws_the_tab_counts_out_of_band(app, make_user, login, requested):
    w, _distributor = requested()
    c, _admin = admin_client(app, make_user, login)
    headers = {**HX, "HX-Current-URL": f"http://localhost{QUEUE}?status=requested"}
    html = text(c.post(f"{QUEUE}/{w.id}/approve", headers=headers))
    tabs = html[html.index('id="withdrawal-tabs"'):]
    assert 'hx-swap-oob="true"' in tabs[:60]
    counts = dict(re.findall(r'status=(\w+)"[^>]*>[^<]+<span class="tab-count">(\d+)</span>', tabs))
    assert counts["requested"] == "0" and counts["approved"] == "1"
    assert 'aria-current="page" href="/admin/distribution/withdrawals?status=requested"' in tabs


def test_finance_chooses_the_paying_account_and_an_unknown_or_short_one_is_a_form_error(
        app, make_user, login, requested):
    w, _distributor = requested()
    c, _admin = admin_client(app, make_user, login)
    assert c.post(f"{QUEUE}/{w.id}/approve", headers=HX).status_code == 200
    with transaction():
        ledger.account(AccountKind.CLEARING, provider="alipay")  # a gateway holding nothing yet
    row = text(c.get(QUEUE, query_string={"status": "approved"}))
    assert "打款账户" in row and "余额 ¥" in row  # each paying account with what it holds
    resp = c.post(f"{QUEUE}/{w.id}/paid", data={"transfer_ref": "ALI20260101002", "paid_from": "nowhere"}, headers=HX)
    assert "请选择打款账户" in text(resp) and fresh(w.id).status == "approved"
    resp = c.post(f"{QUEUE}/{w.id}/paid", data={"transfer_ref": "ALI20260101002", "paid_from": "alipay"}, headers=HX)
    assert "余额不足" in toast(resp)["message"] and fresh(w.id).status == "approved"
    resp = c.post(f"{QUEUE}/{w.id}/paid", data={"transfer_ref": "ALI20260101002", "paid_from": "sandbox"}, headers=HX)
    assert toast(resp)["level"] == "success" and fresh(w.id).status == "paid"
    assert ledger.shown_balance(AccountKind.PAYOUTS) == 0
