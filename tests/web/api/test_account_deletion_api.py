"""注销账号 from the mini-program (`/api/v1/me/deletion`): what stands in the way and how
to confirm, each refusal changing nothing (a wrong password, too many of them, an
unfinished order, a field naming someone else), the deletion by password or by a code
sent to the account's own phone, after which the account's tokens are dead."""
from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import ApiToken, User
from app.extensions import db
from tests.factories import PASSWORD

URL = "/api/v1/me/deletion"


def fresh(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def code(resp) -> str:
    return resp.get_json()["error"]["code"]


def test_what_stands_in_the_way_and_how_to_confirm(client, make_user, api_token, place_order, make_product):
    user = make_user()
    headers = api_token(user)
    assert client.get(URL, headers=headers).get_json() == {"can_delete": True, "confirm_with": "password",
                                                           "blockers": []}
    place_order(user, [(make_product(stocks=(5,)).skus[0].id, 1)])  # unpaid: unfinished
    state = client.get(URL, headers=headers).get_json()
    assert state["can_delete"] is False and [b["code"] for b in state["blockers"]] == ["unfinished_orders"]
    assert "未完成的订单" in state["blockers"][0]["message"] and state["blockers"][0]["link"] == "/orders"

    refused = client.post(URL, json={"password": PASSWORD}, headers=headers)
    assert refused.status_code == 409 and code(refused) == "cannot_delete"
    assert fresh(user.id).status == "active" and client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.get(URL).status_code == 401


def test_deleting_with_the_password_ends_every_token(client, make_user, api_token):
    user = make_user(phone="13766660011")
    headers, other_device = api_token(user), api_token(user)
    no_code = client.post(f"{URL}/code", headers=headers)  # it has a password: no SMS sent for nothing
    assert no_code.status_code == 422 and code(no_code) == "invalid_method"
    wrong = client.post(URL, json={"password": "not-it-123"}, headers=headers)
    assert wrong.status_code == 422 and code(wrong) == "wrong_password" and "password" in wrong.get_json()["error"]["fields"]
    assert fresh(user.id).status == "active"

    assert client.post(URL, json={"password": PASSWORD}, headers=headers).status_code == 204
    gone = fresh(user.id)
    assert gone.status == "deleted" and gone.phone is None and gone.password_hash is None
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id)).where(ApiToken.user_id == user.id)) == 0
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get("/api/v1/me", headers=other_device).status_code == 401


def test_five_wrong_passwords_stop_the_confirmation(client, make_user, api_token):
    user = make_user()
    headers = api_token(user)
    for _ in range(5):
        assert code(client.post(URL, json={"password": "guess-0000"}, headers=headers)) == "wrong_password"
    blocked = client.post(URL, json={"password": PASSWORD}, headers=headers)  # even the right one, for now
    assert blocked.status_code == 429 and code(blocked) == "rate_limited"
    assert fresh(user.id).status == "active"


def test_an_account_without_a_password_confirms_with_a_code_to_its_own_phone(client, make_user, api_token,
                                                                             run_jobs, outbox):
    user = make_user(phone="13766660022", password=None)
    headers = api_token(user)
    assert client.get(URL, headers=headers).get_json()["confirm_with"] == "sms"
    assert client.post(f"{URL}/code", headers=headers).status_code == 202
    run_jobs()
    sent = outbox.last_code("13766660022")
    wrong = client.post(URL, json={"code": "000000" if sent != "000000" else "111111"}, headers=headers)
    assert wrong.status_code == 422 and fresh(user.id).status == "active"
    assert client.post(URL, json={"code": sent}, headers=headers).status_code == 204
    assert fresh(user.id).status == "deleted"


def test_the_body_cannot_name_another_account(client, make_user, api_token):
    user, other = make_user(), make_user()
    refused = client.post(URL, json={"password": PASSWORD, "user_id": other.id}, headers=api_token(user))
    assert refused.status_code == 422
    assert fresh(other.id).status == "active" and fresh(user.id).status == "active"
