"""The withdrawal form: refusals with clear messages and nothing reserved, the
fee shown before confirming (live preview and confirm step), and the history."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.db import transaction
from app.distribution import distributors, withdrawals
from app.distribution import queries as distribution_queries
from app.distribution.models import Distributor, Withdrawal
from app.extensions import db

ACCOUNT = {"method": "alipay", "account_name": "张三", "account_no": "zhangsan@example.com"}


def withdrawal_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Withdrawal.id)))


@pytest.fixture
def rich(client, login, set_rules, make_distributor, balance):
    """A signed-in distributor with ¥30.00 available; rules: ¥10–¥25 a time, 1% fee."""
    set_rules(withdrawal_min="10", withdrawal_max="25", withdrawal_fee_percent="1")
    distributor = make_distributor()
    balance(distributor, 30)
    login(db.session.get(Distributor, distributor.id).user)
    return distributor


@pytest.mark.parametrize(("amount", "message"), [
    ("9.99", "单次提现不能低于 ¥10.00"),
    ("25.01", "单次提现不能高于 ¥25.00"),
    ("abc", "请输入正确的金额"),
    ("", "请输入正确的金额"),
])
def test_amounts_outside_the_rules_are_refused(client, rich, amount, message):
    for confirm in ("", "1"):
        resp = client.post("/distributor/withdrawals", data={"amount": amount, "confirm": confirm, **ACCOUNT})
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and message in html
        assert 'name="amount"' in html and "zhangsan@example.com" in html  # the form keeps what was typed
    assert withdrawal_count() == 0


def test_above_the_balance_is_refused(client, rich, set_rules):
    set_rules(withdrawal_min="10", withdrawal_max="100", withdrawal_fee_percent="1")
    resp = client.post("/distributor/withdrawals", data={"amount": "30.01", **ACCOUNT})
    assert "可提现余额不足（可提现 ¥30.00）" in resp.get_data(as_text=True)
    resp = client.post("/distributor/withdrawals", data={"amount": "30.01", "confirm": "1", **ACCOUNT})
    assert "可提现余额不足" in resp.get_data(as_text=True)
    assert withdrawal_count() == 0


def test_bad_account_details_are_refused_per_field(client, rich):
    resp = client.post("/distributor/withdrawals", data={"amount": "20", "method": "bank", "account_name": "张",
                                                         "account_no": "12ab", "bank_name": ""})
    html = resp.get_data(as_text=True)
    assert "请填写收款人真实姓名" in html and "请填写 12–19 位银行卡号" in html and "请填写开户银行" in html
    resp = client.post("/distributor/withdrawals", data={"amount": "20", **ACCOUNT, "method": "paypal"})
    assert "请选择提现方式" in resp.get_data(as_text=True)
    assert withdrawal_count() == 0


def test_frozen_cannot_withdraw(client, rich, make_user):
    with transaction():
        distributors.freeze(make_user(admin_role="super"), rich.id, "违规推广")
    resp = client.post("/distributor/withdrawals", data={"amount": "20", "confirm": "1", **ACCOUNT},
                       follow_redirects=True)
    assert "分销资格已冻结或未开通，暂不能提现" in resp.get_data(as_text=True)
    assert withdrawal_count() == 0


def test_fee_is_shown_then_confirmed(client, rich):
    preview = client.get("/distributor/withdrawals/fee?amount=20", headers={"HX-Request": "true"})
    assert "手续费 ¥0.20，实际到账 ¥19.80" in preview.get_data(as_text=True)
    assert "单次提现不能高于" in client.get("/distributor/withdrawals/fee?amount=26").get_data(as_text=True)

    step = client.post("/distributor/withdrawals", data={"amount": "20", **ACCOUNT})
    html = step.get_data(as_text=True)
    assert "确认提现" in html and "¥0.20" in html and "¥19.80" in html and 'name="confirm" value="1"' in html
    assert withdrawal_count() == 0  # nothing reserved before confirming

    back = client.post("/distributor/withdrawals", data={"amount": "20", "confirm": "1", "edit": "1", **ACCOUNT})
    assert 'value="20"' in back.get_data(as_text=True) and withdrawal_count() == 0

    done = client.post("/distributor/withdrawals", data={"amount": "20", "confirm": "1", **ACCOUNT},
                       follow_redirects=True)
    assert "提现申请已提交，实际到账 ¥19.80" in done.get_data(as_text=True)
    [withdrawal] = db.session.scalars(sa.select(Withdrawal)).all()
    assert (withdrawal.distributor_id, withdrawal.amount_fen, withdrawal.fee_fen, withdrawal.status) == (
        rich.id, 2000, 20, "requested")
    assert withdrawal.account == {"name": "张三", "account": "zhangsan@example.com"}
    assert distribution_queries.earnings(rich.id).available_fen == 1000
    history = client.get("/distributor/withdrawals").get_data(as_text=True)
    assert "审核中" in history and "手续费 ¥0.20，到账 ¥19.80" in history


def test_history_is_mine_only(client, login, rich, make_distributor, balance):
    other = make_distributor()
    balance(other, 30)
    with transaction():
        withdrawals.request(db.session.get(Distributor, other.id).user,
                            {"amount": "15", "method": "wechat", "account_name": "李四", "account_no": "lisi_wx"})
    html = client.get("/distributor/withdrawals").get_data(as_text=True)
    assert "lisi_wx" not in html and "还没有提现记录" in html
