"""The distributor centre over the API: status and opening, applying, commissions,
team, withdrawals, sharing and binding; every refusal with its code, and nobody
reading another distributor's data."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.clock import travel, utcnow
from app.core.db import transaction
from app.distribution import commissions, distributors, referrals
from app.distribution.models import Commission, Distributor, ReferralBinding, Withdrawal
from app.extensions import db
from app.orders.models import Order
from tests.distribution import conftest as distribution_fixtures

set_rules = distribution_fixtures.set_rules

BASE = "/api/v1"
ALIPAY = {"method": "alipay", "account_name": "张三", "account_no": "zs@example.com"}


@pytest.fixture
def paid_order(place_order, pay_sandbox):
    def pay(buyer, product, quantity=1):
        payment = place_order(buyer, [(product.skus[0].id, quantity)])
        assert pay_sandbox(payment).status_code == 200
        db.session.expire_all()
        return db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))

    return pay


def _settle_all(distributor_id: int) -> None:
    """Make a distributor's commissions available now, through the settlement service (so the
    books move too; the delay itself is tested with the worker)."""
    with transaction():
        db.session.execute(sa.update(Commission).where(Commission.distributor_id == distributor_id)
                           .values(settle_after=utcnow() - timedelta(seconds=1)))
        for commission_id in commissions.due_ids():
            commissions.settle(commission_id)


# --- status and opening ------------------------------------------------------------------------

def test_everyone_mode_opens_the_centre_on_first_call(client, make_user, api_token, set_rules):
    set_rules(qualification="everyone")
    user = make_user()
    headers = api_token(user)
    first = client.get(f"{BASE}/distributor", headers=headers)
    assert first.status_code == 200
    body = first.json
    assert body["status"] == "active" and len(body["code"]) == 6 and body["qualification"] == "everyone"
    assert body["summary"] == {"pending_fen": 0, "available_fen": 0, "debt_fen": 0, "withdrawn_fen": 0, "in_progress_fen": 0,
                               "total_fen": 0}
    assert body["withdrawal"]["methods"] == ["wechat", "alipay", "bank"] and body["withdrawal"]["min_fen"] == 1000
    again = client.get(f"{BASE}/distributor", headers=headers).json
    assert again["code"] == body["code"]
    assert db.session.scalar(sa.select(sa.func.count(Distributor.id)).where(Distributor.user_id == user.id)) == 1


def test_without_a_token_every_endpoint_answers_401(client):
    bodies = {"/distributor/apply": {"real_name": "张三", "phone": "13800001111"},
              "/distributor/withdrawals": {"amount": "10", **ALIPAY}, "/referrals/bind": {"code": "ABCDEF"}}
    for method, path in [("get", "/distributor"), ("post", "/distributor/apply"), ("get", "/distributor/commissions"),
                         ("get", "/distributor/team"), ("post", "/distributor/withdrawals"),
                         ("get", "/distributor/withdrawals"), ("get", "/distributor/share"),
                         ("post", "/referrals/bind")]:
        kwargs = {"json": bodies[path]} if method == "post" else {}
        response = getattr(client, method)(f"{BASE}{path}", **kwargs)
        assert response.status_code == 401, path
        assert response.json["error"]["code"] == "unauthorized"


def test_application_mode_apply_review_and_reapply(client, make_user, api_token, set_rules):
    set_rules(qualification="application")
    user = make_user()
    headers = api_token(user)
    before = client.get(f"{BASE}/distributor", headers=headers).json
    assert before["status"] == "none" and before["code"] is None and before["can_apply"]
    assert db.session.scalar(sa.select(sa.func.count(Distributor.id))) == 0  # opening made nothing

    bad = client.post(f"{BASE}/distributor/apply", json={"real_name": "张", "phone": "123", "reason": ""},
                      headers=headers)
    assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_application"
    assert set(bad.json["error"]["fields"]) == {"real_name", "phone"}
    assert distributors.for_user(user.id) is None

    extra = client.post(f"{BASE}/distributor/apply", json={"real_name": "张三", "phone": "13800001111", "x": 1},
                        headers=headers)
    assert extra.status_code == 422 and "x" in extra.json["error"]["fields"]

    applied = client.post(f"{BASE}/distributor/apply",
                          json={"real_name": "张三", "phone": "13800001111", "reason": "朋友多"}, headers=headers)
    assert applied.status_code == 201 and applied.json["status"] == "pending" and applied.json["code"] is None
    twice = client.post(f"{BASE}/distributor/apply", json={"real_name": "张三", "phone": "13800001111"},
                        headers=headers)
    assert twice.status_code == 409 and twice.json["error"]["code"] == "already_applied"

    with transaction():
        distributors.reject(make_user(admin_role="super"), distributors.for_user(user.id).id, "资料不全")
    rejected = client.get(f"{BASE}/distributor", headers=headers).json
    assert rejected["status"] == "rejected" and rejected["reason"] == "资料不全" and rejected["can_apply"]
    again = client.post(f"{BASE}/distributor/apply", json={"real_name": "张三", "phone": "13800001111"},
                        headers=headers)
    assert again.status_code == 201 and again.json["status"] == "pending" and again.json["reason"] is None


def test_apply_is_refused_outside_the_application_mode(client, make_user, api_token, set_rules):
    set_rules(qualification="everyone")
    headers = api_token(make_user())
    refused = client.post(f"{BASE}/distributor/apply", json={"real_name": "张三", "phone": "13800001111"},
                          headers=headers)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "application_not_open"


def test_spend_threshold_mode_shows_spend_and_threshold(client, make_user, api_token, set_rules):
    set_rules(qualification="spend_threshold", spend_threshold="500")
    body = client.get(f"{BASE}/distributor", headers=api_token(make_user())).json
    assert body["status"] == "none" and body["spend_fen"] == 0 and body["threshold_fen"] == 50000
    assert not body["can_apply"]


def test_frozen_distributor_sees_the_reason(client, api_token, set_rules, make_distributor, make_user):
    set_rules()
    distributor = make_distributor()
    with transaction():
        distributors.freeze(make_user(admin_role="super"), distributor.id, "刷单")
    body = client.get(f"{BASE}/distributor", headers=api_token(distributor.user)).json
    assert body["status"] == "frozen" and body["reason"] == "刷单" and body["code"] == distributor.code


# --- commissions and team --------------------------------------------------------------------

def test_commissions_are_only_ones_own_paginated_with_a_fixed_query_count(
        client, api_token, set_rules, make_distributor, make_user, make_product, paid_order, count_queries):
    set_rules()
    top = make_distributor()
    near = make_distributor(parent=top)
    stranger = make_distributor()
    buyer = make_user()
    with transaction():
        referrals.bind(buyer, near.code, "link", is_new_user=True)
    product = make_product(title="分销测试商品", price_fen=10000, stocks=(20,))
    orders = [paid_order(buyer, product) for _ in range(3)]

    near_headers = api_token(near.user)
    page = client.get(f"{BASE}/distributor/commissions?per_page=2", headers=near_headers).json
    assert page["total"] == 3 and page["page"] == 1 and len(page["items"]) == 2
    first = page["items"][0]
    assert first["order_no"] == orders[-1].order_no and first["item_title"] == "分销测试商品"
    assert (first["level"], first["amount_fen"], first["void_fen"], first["status"]) == (1, 1000, 0, "pending")
    assert first["settle_after"] is None and first["created_at"]
    top_page = client.get(f"{BASE}/distributor/commissions", headers=api_token(top.user)).json
    assert {(c["level"], c["amount_fen"]) for c in top_page["items"]} == {(2, 500)}
    assert client.get(f"{BASE}/distributor/commissions", headers=api_token(stranger.user)).json["total"] == 0
    only_void = client.get(f"{BASE}/distributor/commissions?status=void", headers=near_headers).json
    assert only_void["total"] == 0
    bad = client.get(f"{BASE}/distributor/commissions?status=nonsense", headers=near_headers)
    assert bad.status_code == 422 and "status" in bad.json["error"]["fields"]
    summary = client.get(f"{BASE}/distributor", headers=near_headers).json["summary"]
    assert summary["pending_fen"] == 3000 and summary["total_fen"] == 3000 and summary["available_fen"] == 0

    with count_queries() as few:
        client.get(f"{BASE}/distributor/commissions?per_page=1", headers=near_headers)
    with count_queries() as many:
        client.get(f"{BASE}/distributor/commissions?per_page=3", headers=near_headers)
    assert len(many) == len(few), many


def test_not_a_distributor_gets_404_everywhere(client, make_user, api_token, set_rules):
    set_rules(qualification="application")
    headers = api_token(make_user())
    for path in ("/distributor/commissions", "/distributor/team", "/distributor/withdrawals", "/distributor/share"):
        response = client.get(f"{BASE}{path}", headers=headers)
        assert response.status_code == 404 and response.json["error"]["code"] == "not_distributor", path
    refused = client.post(f"{BASE}/distributor/withdrawals", json={"amount": "10", **ALIPAY}, headers=headers)
    assert refused.status_code == 404 and refused.json["error"]["code"] == "not_distributor"


def test_team_counts_levels_and_customers_without_n_plus_one(
        client, api_token, set_rules, make_distributor, make_user, count_queries):
    set_rules()
    me = make_distributor()
    firsts = [make_distributor(parent=me, nickname=f"一级{i}") for i in range(3)]
    make_distributor(parent=firsts[0], nickname="二级0")
    make_distributor(parent=firsts[0], nickname="二级1")
    make_distributor(parent=firsts[1], nickname="二级2")
    for _ in range(2):
        with transaction():
            referrals.bind(make_user(), me.code, "link", is_new_user=True)
    other = make_distributor()  # someone else's team stays out of my counts
    make_distributor(parent=other)

    headers = api_token(me.user)
    team = client.get(f"{BASE}/distributor/team", headers=headers).json
    # customers: the 3 level-1 members were bound to me when they joined, plus 2 buyers
    assert team["counts"] == {"level1": 3, "level2": 3, "customers": 5}
    assert team["level"] == 1 and team["total"] == 3
    assert {m["nickname"]: m["members"] for m in team["items"]} == {"一级0": 2, "一级1": 1, "一级2": 0}
    level2 = client.get(f"{BASE}/distributor/team?level=2", headers=headers).json
    assert sorted(m["nickname"] for m in level2["items"]) == ["二级0", "二级1", "二级2"]
    assert all(set(m) == {"nickname", "status", "level", "joined_at", "members"} for m in level2["items"])
    assert client.get(f"{BASE}/distributor/team?level=3", headers=headers).status_code == 422
    mine = client.get(f"{BASE}/distributor/team", headers=api_token(other.user)).json
    assert mine["counts"] == {"level1": 1, "level2": 0, "customers": 1}

    with count_queries() as few:
        client.get(f"{BASE}/distributor/team?per_page=1", headers=headers)
    with count_queries() as many:
        client.get(f"{BASE}/distributor/team?per_page=3", headers=headers)
    assert len(many) == len(few), many


# --- withdrawals -------------------------------------------------------------------------------

def test_withdrawal_request_list_and_refusals(client, api_token, set_rules, make_distributor, make_user,
                                              make_product, paid_order):
    set_rules(withdrawal_fee_percent="1")
    near = make_distributor()
    buyer = make_user()
    with transaction():
        referrals.bind(buyer, near.code, "link", is_new_user=True)
    paid_order(buyer, make_product(price_fen=50000))  # 10% of 500 yuan = 50 yuan
    headers = api_token(near.user)

    pending_only = client.post(f"{BASE}/distributor/withdrawals", json={"amount": "20", **ALIPAY}, headers=headers)
    assert pending_only.status_code == 409 and pending_only.json["error"]["code"] == "insufficient_balance"
    _settle_all(near.id)

    quote = client.get(f"{BASE}/distributor/withdrawals/quote?amount=30", headers=headers).json
    assert quote == {"amount_fen": 3000, "fee_fen": 30, "net_fen": 2970, "available_fen": 5000}
    refusals = [
        ({"amount": "abc", **ALIPAY}, 422, "invalid_amount"),
        ({"amount": "5", **ALIPAY}, 422, "below_minimum"),
        ({"amount": "5000.01", **ALIPAY}, 422, "above_maximum"),
        ({"amount": "30", **ALIPAY, "method": "paypal"}, 422, "invalid_method"),
        ({"amount": "30", **ALIPAY, "account_name": ""}, 422, "invalid_account"),
        ({"amount": "30", **ALIPAY, "method": "bank", "account_no": "12"}, 422, "invalid_account"),
        ({"amount": "30", "amount_fen": 3000, **ALIPAY}, 422, "invalid"),
        ({**ALIPAY}, 422, "invalid"),
        ({"amount": "50.01", **ALIPAY}, 409, "insufficient_balance"),
    ]
    for body, status, code in refusals:
        response = client.post(f"{BASE}/distributor/withdrawals", json=body, headers=headers)
        assert (response.status_code, response.json["error"]["code"]) == (status, code), body
    assert db.session.scalar(sa.select(sa.func.count(Withdrawal.id))) == 0

    made = client.post(f"{BASE}/distributor/withdrawals", json={"amount_fen": 3000, **ALIPAY}, headers=headers)
    assert made.status_code == 201
    assert (made.json["amount_fen"], made.json["fee_fen"], made.json["net_fen"], made.json["status"]) == (
        3000, 30, 2970, "requested")
    assert made.json["account_no"] == "**********.com" and made.json["account_name"] == "张三"
    bank = client.post(f"{BASE}/distributor/withdrawals", json={
        "amount": "20", "method": "bank", "account_name": "张三", "account_no": "6222020200112233445",
        "bank_name": "工商银行"}, headers=headers)
    assert bank.status_code == 201 and bank.json["bank_name"] == "工商银行" and bank.json["account_no"].endswith("3445")
    over = client.post(f"{BASE}/distributor/withdrawals", json={"amount": "0.01", **ALIPAY}, headers=headers)
    assert over.status_code == 422  # below the minimum even before the (now empty) balance

    summary = client.get(f"{BASE}/distributor", headers=headers).json["summary"]
    assert (summary["available_fen"], summary["in_progress_fen"], summary["total_fen"]) == (0, 5000, 5000)
    listing = client.get(f"{BASE}/distributor/withdrawals", headers=headers).json
    assert listing["total"] == 2 and [w["amount_fen"] for w in listing["items"]] == [2000, 3000]
    stranger = make_distributor()
    assert client.get(f"{BASE}/distributor/withdrawals", headers=api_token(stranger.user)).json["total"] == 0


def test_frozen_distributor_cannot_withdraw(client, api_token, set_rules, make_distributor, make_user, make_product,
                                            paid_order):
    set_rules()
    near = make_distributor()
    buyer = make_user()
    with transaction():
        referrals.bind(buyer, near.code, "link", is_new_user=True)
    paid_order(buyer, make_product(price_fen=50000))
    _settle_all(near.id)
    with transaction():
        distributors.freeze(make_user(admin_role="super"), near.id, "违规")
    refused = client.post(f"{BASE}/distributor/withdrawals", json={"amount": "20", **ALIPAY},
                          headers=api_token(near.user))
    assert refused.status_code == 409 and refused.json["error"]["code"] == "cannot_withdraw"
    assert db.session.scalar(sa.select(sa.func.count(Withdrawal.id))) == 0


# --- sharing and binding -------------------------------------------------------------------------

def test_share_links_scene_and_poster(client, api_token, set_rules, make_distributor, make_product, make_user):
    set_rules()
    me = make_distributor()
    headers = api_token(me.user)
    shop = client.get(f"{BASE}/distributor/share", headers=headers).json
    assert shop["link"] == f"http://localhost/r/{me.code}" and shop["qr_scene"] == f"r={me.code}"
    assert shop["poster_url"] == f"http://localhost{BASE}/distributor/share/poster.png" and shop["code"] == me.code
    product = make_product()
    one = client.get(f"{BASE}/distributor/share?product_id={product.id}", headers=headers).json
    assert one["link"] == f"http://localhost/r/{me.code}/p/{product.id}"
    assert one["qr_scene"] == f"r={me.code}&p={product.id}" and len(one["qr_scene"]) <= 32
    assert one["poster_url"] == f"http://localhost{BASE}/distributor/share/poster.png?product_id={product.id}"
    assert one["commission_enabled"] is True
    # the mini-program fetches the poster with its bearer token (no web session)
    poster = client.get(one["poster_url"].removeprefix("http://localhost"), headers=headers)
    assert poster.status_code == 200 and poster.content_type == "image/png"
    from PIL import Image

    assert Image.open(io.BytesIO(poster.data)).size == (750, 1334)
    assert client.get(one["poster_url"].removeprefix("http://localhost")).status_code == 401
    draft = make_product(status="draft")
    missing = client.get(f"{BASE}/distributor/share?product_id={draft.id}", headers=headers)
    assert missing.status_code == 404 and missing.json["error"]["code"] == "product_not_found"
    assert client.get(f"{BASE}/distributor/share/poster.png?product_id={draft.id}", headers=headers).status_code == 404
    assert client.get(f"{BASE}/distributor/share?product_id=x", headers=headers).status_code == 422
    with transaction():
        distributors.freeze(make_user(admin_role="super"), me.id, "违规")
    frozen = client.get(f"{BASE}/distributor/share", headers=headers)
    assert frozen.status_code == 409 and frozen.json["error"]["code"] == "distributor_inactive"


def test_bind_by_code_and_every_refusal(client, api_token, set_rules, make_distributor, make_user):
    set_rules()
    top = make_distributor()
    child = make_distributor(parent=top)
    buyer = make_user()
    headers = api_token(buyer)

    unknown = client.post(f"{BASE}/referrals/bind", json={"code": "ZZZZZZ"}, headers=headers)
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "invalid_code"
    empty = client.post(f"{BASE}/referrals/bind", json={"code": ""}, headers=headers)
    assert empty.status_code == 422
    self_bind = client.post(f"{BASE}/referrals/bind", json={"code": top.code}, headers=api_token(top.user))
    assert self_bind.status_code == 409 and self_bind.json["error"]["code"] == "cannot_bind_self"
    downline = client.post(f"{BASE}/referrals/bind", json={"code": child.code.lower()}, headers=api_token(top.user))
    assert downline.status_code == 409 and downline.json["error"]["code"] == "cannot_bind_downline"
    assert referrals.current_binding(top.user_id) is None

    bound = client.post(f"{BASE}/referrals/bind", json={"code": child.code}, headers=headers)
    assert bound.status_code == 200 and bound.json == {"bound": True, "distributor_code": child.code}
    binding = referrals.current_binding(buyer.id)
    assert (binding.distributor_id, binding.source) == (child.id, "qr")
    # permanent mode: a second code keeps the first binding
    kept = client.post(f"{BASE}/referrals/bind", json={"code": top.code, "source": "code"}, headers=headers)
    assert kept.status_code == 200 and kept.json == {"bound": False, "distributor_code": child.code}

    with transaction():
        distributors.freeze(make_user(admin_role="super"), top.id, "违规")
    inactive = client.post(f"{BASE}/referrals/bind", json={"code": top.code}, headers=api_token(make_user()))
    assert inactive.status_code == 409 and inactive.json["error"]["code"] == "distributor_inactive"


def test_new_users_only_binds_a_fresh_account_but_not_an_old_one(client, api_token, set_rules, make_distributor,
                                                                  make_user):
    set_rules(bind_new_users_only=True)
    me = make_distributor()
    fresh = make_user()
    assert client.post(f"{BASE}/referrals/bind", json={"code": me.code}, headers=api_token(fresh)).json["bound"]
    old = make_user()
    with travel(timedelta(minutes=11)):
        answer = client.post(f"{BASE}/referrals/bind", json={"code": me.code}, headers=api_token(old))
    assert answer.status_code == 200 and answer.json == {"bound": False, "distributor_code": None}
    assert db.session.scalar(sa.select(sa.func.count(ReferralBinding.id)).where(
        ReferralBinding.buyer_id == old.id)) == 0


def test_openapi_documents_the_distribution_endpoints(client):
    spec = client.get(f"{BASE}/openapi.json").json
    for path in ("/api/v1/distributor", "/api/v1/distributor/apply", "/api/v1/distributor/commissions",
                 "/api/v1/distributor/team", "/api/v1/distributor/withdrawals", "/api/v1/distributor/share",
                 "/api/v1/referrals/bind"):
        assert path in spec["paths"], path
    assert spec["paths"]["/api/v1/referrals/bind"]["post"]["security"] == [{"bearer": []}]
