"""The mini-program's account API: codes, registration, sign-in, tokens, errors."""
import re

import sqlalchemy as sa

from app.accounts.models import ApiToken, User
from app.extensions import db

PHONE = "13922223333"


def send_code(client, run_jobs, outbox, phone=PHONE, purpose="register"):
    resp = client.post("/api/v1/auth/sms-codes", json={"phone": phone, "purpose": purpose})
    assert resp.status_code == 202, resp.json
    run_jobs()
    return outbox.last_code(phone)


def test_register_by_phone_then_me_and_logout(client, run_jobs, outbox):
    code = send_code(client, run_jobs, outbox)
    resp = client.post("/api/v1/auth/register/phone", json={"phone": PHONE, "code": code, "password": "abc12345",
                                                                "agree_terms": True})
    assert resp.status_code == 201
    body = resp.json
    assert set(body) == {"token", "user"}
    assert body["user"]["phone"] == PHONE and body["user"]["roles"] == ["shopper"]
    headers = {"Authorization": f"Bearer {body['token']}"}
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert set(me.json) == {"id", "nickname", "phone", "email", "avatar_url", "roles", "accepts_marketing"}
    token_row = db.session.scalar(sa.select(ApiToken))
    assert body["token"] not in token_row.token_hash  # stored hashed
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_errors_have_the_house_shape(client, run_jobs, outbox):
    missing = client.post("/api/v1/auth/sms-codes", json={"phone": PHONE})
    assert missing.status_code == 422 and missing.json["error"]["code"] == "invalid"
    assert "purpose" in missing.json["error"]["fields"]
    bad_phone = client.post("/api/v1/auth/sms-codes", json={"phone": "123", "purpose": "register"})
    assert bad_phone.status_code == 422 and bad_phone.json["error"]["code"] == "invalid_phone"
    no_token = client.get("/api/v1/me")
    assert no_token.status_code == 401 and no_token.json == {"error": {"code": "unauthorized", "message": "请先登录"}}
    bad_token = client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert bad_token.status_code == 401
    not_json = client.post("/api/v1/auth/login/password", data="x", content_type="text/plain")
    assert not_json.status_code in (400, 415, 422) and "error" in not_json.json
    unknown = client.get("/api/v1/nothing-here")
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "not_found"


def test_wrong_code_weak_password_and_duplicate(client, run_jobs, outbox, make_user):
    code = send_code(client, run_jobs, outbox)
    wrong = "000000" if code != "000000" else "111111"
    resp = client.post("/api/v1/auth/register/phone", json={"phone": PHONE, "code": wrong, "password": "abc12345",
                                                                "agree_terms": True})
    assert resp.status_code == 422 and resp.json["error"]["code"] == "invalid_code"
    weak = client.post("/api/v1/auth/register/phone", json={"phone": PHONE, "code": code, "password": "123",
                                                                "agree_terms": True})
    assert weak.status_code == 422 and weak.json["error"]["code"] == "weak_password"
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0
    make_user(phone="13700001111")
    dup = client.post("/api/v1/auth/sms-codes", json={"phone": "13700001111", "purpose": "register"})
    assert dup.status_code == 409 and dup.json["error"]["code"] == "already_registered"


def test_sms_code_limits_answer_429(client):
    first = client.post("/api/v1/auth/sms-codes", json={"phone": PHONE, "purpose": "register"})
    assert first.status_code == 202
    again = client.post("/api/v1/auth/sms-codes", json={"phone": PHONE, "purpose": "register"})
    # too soon is a limit like the others: 429 with Retry-After (it was a 409)
    assert again.status_code == 429 and again.json["error"]["code"] == "code_too_soon"
    assert 55 <= int(again.headers["Retry-After"]) <= 60 and "秒后" in again.json["error"]["message"]
    for n in range(29):
        client.post("/api/v1/auth/sms-codes", json={"phone": f"1380000{n:04d}", "purpose": "register"})
    limited = client.post("/api/v1/auth/sms-codes", json={"phone": "13811110000", "purpose": "register"})
    assert limited.status_code == 429 and limited.json["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 3600


def test_password_and_sms_login(client, run_jobs, outbox, make_user):
    make_user(phone="13700002222", email="api@example.com")
    ok = client.post("/api/v1/auth/login/password", json={"account": "api@example.com", "password": "secret123"})
    assert ok.status_code == 200 and ok.json["user"]["email"] == "api@example.com"
    bad = client.post("/api/v1/auth/login/password", json={"account": "api@example.com", "password": "x"})
    assert bad.status_code == 401 and bad.json["error"]["code"] == "invalid_credentials"
    code = send_code(client, run_jobs, outbox, "13700002222", "login")
    sms = client.post("/api/v1/auth/login/sms", json={"phone": "13700002222", "code": code})
    assert sms.status_code == 200 and sms.json["token"]


def test_email_registration_through_the_api(client, run_jobs, outbox):
    assert client.post("/api/v1/auth/email/start", json={"email": "mp@example.com"}).status_code == 202
    run_jobs()
    token = re.search(r"/register/email/([^/\s]+)", outbox.last_link("mp@example.com")).group(1)
    resp = client.post("/api/v1/auth/register/email", json={"token": token, "password": "abc12345",
                                                                 "agree_terms": True})
    assert resp.status_code == 201 and resp.json["user"]["email"] == "mp@example.com"
    again = client.post("/api/v1/auth/register/email", json={"token": token, "password": "abc12345",
                                                                 "agree_terms": True})
    assert again.status_code in (409, 422)


def test_registration_needs_agree_terms_true_and_records_the_consent(client, run_jobs, outbox):
    from app.accounts import consent

    code = send_code(client, run_jobs, outbox)
    base = {"phone": PHONE, "code": code, "password": "abc12345"}
    for extra in ({}, {"agree_terms": False}, {"agree_terms": "no"}):
        resp = client.post("/api/v1/auth/register/phone", json={**base, **extra})
        assert resp.status_code == 422 and "agree_terms" in resp.json["error"]["fields"], extra
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0  # and the code is still good:
    resp = client.post("/api/v1/auth/register/phone", json={**base, "agree_terms": True})
    assert resp.status_code == 201
    user = db.session.get(User, resp.json["user"]["id"])
    assert user.terms_version == consent.TERMS_VERSION and user.terms_accepted_at is not None
    assert client.post("/api/v1/auth/email/start", json={"email": "consent@example.com"}).status_code == 202
    run_jobs()
    token = re.search(r"/register/email/([^/\s]+)", outbox.last_link("consent@example.com")).group(1)
    refused = client.post("/api/v1/auth/register/email", json={"token": token, "password": "abc12345"})
    assert refused.status_code == 422 and "agree_terms" in refused.json["error"]["fields"]
    done = client.post("/api/v1/auth/register/email", json={"token": token, "password": "abc12345", "agree_terms": True})
    assert done.status_code == 201 and db.session.get(User, done.json["user"]["id"]).terms_version == consent.TERMS_VERSION
    spec = client.get("/api/v1/openapi.json").json
    for path in ("/api/v1/auth/register/phone", "/api/v1/auth/register/email"):
        schema = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        assert "agree_terms" in schema["required"] and schema["properties"]["agree_terms"]["type"] == "boolean"
        assert "/privacy" in schema["properties"]["agree_terms"]["description"]


def test_password_reset_kills_old_tokens(client, run_jobs, outbox, make_user, api_token):
    user = make_user(phone="13700003333")
    headers = api_token(user)
    code = send_code(client, run_jobs, outbox, "13700003333", "reset")
    resp = client.post("/api/v1/auth/password/reset", json={"phone": "13700003333", "code": code, "password": "fresh1234"})
    assert resp.status_code == 200
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_expired_token_is_refused(client, make_user, api_token):
    from datetime import timedelta

    from app.core.clock import utcnow

    headers = api_token(make_user())
    db.session.execute(sa.update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_openapi_document_and_docs_page(client):
    spec = client.get("/api/v1/openapi.json").json
    for path in ("/api/v1/auth/sms-codes", "/api/v1/auth/register/phone", "/api/v1/auth/login/password",
                 "/api/v1/auth/login/sms", "/api/v1/auth/email/start", "/api/v1/auth/register/email",
                 "/api/v1/auth/password/reset", "/api/v1/me", "/api/v1/auth/logout", "/api/v1/addresses",
                 "/api/v1/addresses/{address_id}"):
        assert path in spec["paths"], path
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "/api/v1/me" in page.get_data(as_text=True)


def test_bind_phone_through_the_api(client, run_jobs, outbox, make_user, api_token):
    headers = api_token(make_user(phone=None, email="mp-user@example.com"))
    anonymous = client.post("/api/v1/auth/sms-codes", json={"phone": "13744445555", "purpose": "bind"})
    assert anonymous.status_code == 401
    taken = make_user(phone="13744446666")
    refused = client.post("/api/v1/auth/sms-codes", json={"phone": taken.local_phone, "purpose": "bind"}, headers=headers)
    assert refused.status_code == 409
    assert client.post("/api/v1/auth/sms-codes", json={"phone": "13744445555", "purpose": "bind"}, headers=headers).status_code == 202
    run_jobs()
    wrong = client.post("/api/v1/me/phone", json={"phone": "13744445555", "code": "12345x"}, headers=headers)
    assert wrong.status_code == 422
    ok = client.post("/api/v1/me/phone", json={"phone": "13744445555", "code": outbox.last_code("13744445555")}, headers=headers)
    assert ok.status_code == 200 and ok.json["phone"] == "13744445555"
