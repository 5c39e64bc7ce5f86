"""The centre page in each qualification mode, the apply form, frozen, and 我的."""
from __future__ import annotations

import sqlalchemy as sa

from app.core.db import transaction
from app.distribution import distributors
from app.distribution.models import Distributor
from app.extensions import db


def rows_of(user) -> list[Distributor]:
    return list(db.session.scalars(sa.select(Distributor).where(Distributor.user_id == user.id)))


def test_centre_needs_sign_in(client):
    resp = client.get("/distributor/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_distribution_off_says_not_open_and_creates_nothing(client, login, make_user, set_rules):
    set_rules(enabled=False)
    user = make_user()
    login(user)
    resp = client.get("/distributor/")
    assert resp.status_code == 200
    assert "分销功能暂未开放" in resp.get_data(as_text=True)
    assert rows_of(user) == []


def test_everyone_becomes_active_by_opening_the_centre(client, login, make_user, set_rules):
    set_rules(qualification="everyone")
    user = make_user()
    login(user)
    html = client.get("/distributor/").get_data(as_text=True)
    [row] = rows_of(user)
    assert row.status == "active"
    assert row.code in html and f"/r/{row.code}" in html
    assert "可提现" in html and "待结算" in html and "累计收益" in html
    client.get("/distributor/")
    assert len(rows_of(user)) == 1


def test_application_form_errors_keep_input_and_create_nothing(client, login, make_user, set_rules):
    set_rules(qualification="application")
    user = make_user()
    login(user)
    page = client.get("/distributor/").get_data(as_text=True)
    assert "提交申请" in page and 'name="real_name"' in page
    resp = client.post("/distributor/apply", data={"real_name": "王", "phone": "12345", "reason": "x"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "请填写 2–20 个字的真实姓名" in html and "请填写正确的手机号" in html
    assert 'value="12345"' in html  # what was typed stays
    assert rows_of(user) == []


def test_apply_then_pending_then_rejected_then_reapply(client, login, make_user, set_rules):
    set_rules(qualification="application")
    user = make_user()
    login(user)
    resp = client.post("/distributor/apply", data={"real_name": "王小明", "phone": "13900001111", "reason": "社群团长"})
    assert resp.status_code == 302
    [row] = rows_of(user)
    assert (row.status, row.real_name, row.phone) == ("pending", "王小明", "13900001111")
    html = client.get("/distributor/").get_data(as_text=True)
    assert "审核中" in html and 'name="real_name"' not in html
    # A second application while pending is refused with a message.
    again = client.post("/distributor/apply", data={"real_name": "王小明", "phone": "13900001111"}, follow_redirects=True)
    assert "您已是分销商或申请正在审核中" in again.get_data(as_text=True)

    admin = make_user(admin_role="super")
    with transaction():
        distributors.reject(admin, row.id, "资料不完整")
    html = client.get("/distributor/").get_data(as_text=True)
    assert "资料不完整" in html and "重新申请" in html and 'value="王小明"' in html
    resp = client.post("/distributor/apply", data={"real_name": "王小明", "phone": "13900002222", "reason": "补充资料"})
    assert resp.status_code == 302
    db.session.expire_all()
    [row] = rows_of(user)
    assert (row.status, row.phone, row.status_reason) == ("pending", "13900002222", None)


def test_apply_outside_application_mode_is_refused(client, login, make_user, set_rules):
    set_rules(qualification="spend_threshold", spend_threshold="500")
    user = make_user()
    login(user)
    resp = client.post("/distributor/apply", data={"real_name": "王小明", "phone": "13900001111"}, follow_redirects=True)
    assert "当前无需申请" in resp.get_data(as_text=True)
    assert rows_of(user) == []


def test_spend_threshold_shows_progress(client, login, make_user, set_rules, make_product, place_order, pay_sandbox):
    set_rules(qualification="spend_threshold", spend_threshold="500")
    user = make_user()
    product = make_product(price_fen=12000)
    assert pay_sandbox(place_order(user, [(product.skus[0].id, 1)])).status_code == 200
    login(user)
    html = client.get("/distributor/").get_data(as_text=True)
    assert "¥120.00 / ¥500.00" in html
    assert "再消费 ¥380.00 即可成为分销商" in html
    assert rows_of(user) == []


def test_frozen_sees_reason_and_no_withdrawal(client, login, make_user, set_rules, make_distributor):
    set_rules()
    distributor = make_distributor()
    with transaction():
        distributors.freeze(make_user(admin_role="super"), distributor.id, "刷单嫌疑")
    login(db.session.get(Distributor, distributor.id).user)
    html = client.get("/distributor/").get_data(as_text=True)
    assert "分销资格已冻结" in html and "刷单嫌疑" in html
    withdraw_page = client.get("/distributor/withdrawals").get_data(as_text=True)
    assert "刷单嫌疑" in withdraw_page and 'name="amount"' not in withdraw_page


def test_me_shows_the_entry_with_available_earnings(client, login, make_user, set_rules, make_distributor, balance):
    set_rules()
    outsider = make_user()
    login(outsider)
    html = client.get("/me").get_data(as_text=True)
    assert 'id="distributor-entry"' in html and "分享赚佣金" in html
    assert "待付款" in html  # the order shortcuts stay

    distributor = make_distributor()
    balance(distributor, 30)  # ¥300 of goods at 10%
    login(db.session.get(Distributor, distributor.id).user)
    html = client.get("/me").get_data(as_text=True)
    assert 'id="distributor-entry"' in html and "¥30.00" in html and "可提现" in html


def test_distribution_paused_keeps_an_existing_centre(client, login, set_rules, make_distributor):
    set_rules()
    distributor = make_distributor()
    set_rules(enabled=False)
    login(db.session.get(Distributor, distributor.id).user)
    html = client.get("/distributor/").get_data(as_text=True)
    assert distributor.code in html and "平台已暂停分销" in html
    assert client.get("/distributor/withdrawals").status_code == 200
