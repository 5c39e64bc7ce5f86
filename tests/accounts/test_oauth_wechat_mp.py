"""WeChat mini-program sign-in: the `code2session` adapter against a fake
WeChat server, and `POST /api/v1/auth/login/wechat-mp`."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.models import ApiToken, Identity, SignInEvent, User
from app.accounts.oauth import ProviderNotConfigured, ProviderUnavailable, wechat_mp
from app.accounts.states import UserStatus
from app.core import settings as platform_settings
from app.core.errors import Forbidden, RateLimited, ValidationError
from app.extensions import db
from tests.accounts.test_oauth_fakes import FakeWechat, WechatAccount

URL = "/api/v1/auth/login/wechat-mp"


@pytest.fixture
def fake_wechat(app, monkeypatch):
    fake = FakeWechat()
    fake.configure(app, monkeypatch)
    yield fake
    fake.close()


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- the adapter -------------------------------------------------------------------------

def test_code2session_returns_openid_unionid_and_session_key(fake_wechat):
    code = fake_wechat.mp_code(WechatAccount("o-mp-1", "o-web-1", unionid="u-1"))
    session = wechat_mp.code2session(code)
    assert (session.openid, session.unionid, session.session_key) == ("o-mp-1", "u-1", "c2Vzc2lvbi1rZXk=")
    assert "session_key" not in repr(session)
    sent = fake_wechat.requests[-1]
    assert sent.path == "/sns/jscode2session"
    assert sent.query == {"appid": "wx-mp-app", "secret": "mp-secret", "js_code": code,
                          "grant_type": "authorization_code"}


def test_code2session_without_unionid(fake_wechat):
    session = wechat_mp.code2session(fake_wechat.mp_code(WechatAccount("o-mp-2", "o-web-2")))
    assert session.unionid is None


@pytest.mark.parametrize(("errcode", "error", "code", "words"), [
    (40029, ValidationError, "wechat_code_invalid", "无效"),
    (40163, ValidationError, "wechat_code_used", "已使用"),
    (45011, RateLimited, "wechat_rate_limited", "频繁"),
    (40226, Forbidden, "wechat_risky_user", "风险"),
    (-1, ProviderUnavailable, "wechat_busy", "繁忙"),
    (40125, ProviderUnavailable, "wechat_config_error", "配置"),
    (99999, ProviderUnavailable, "wechat_error", "99999"),
])
def test_errcodes_become_typed_errors_with_clear_messages(fake_wechat, errcode, error, code, words):
    fake_wechat.fail_with = errcode
    with pytest.raises(error) as caught:
        wechat_mp.code2session("anything")
    assert caught.value.code == code
    assert words in caught.value.message


def test_a_used_code_is_refused(fake_wechat):
    code = fake_wechat.mp_code(WechatAccount("o-mp-3", "o-web-3"))
    wechat_mp.code2session(code)
    with pytest.raises(ValidationError) as caught:
        wechat_mp.code2session(code)
    assert caught.value.code == "wechat_code_used"


def test_unreachable_server_is_provider_unavailable(app, monkeypatch, fake_wechat):
    fake_wechat.close()
    with pytest.raises(ProviderUnavailable) as caught:
        wechat_mp.code2session("some-code")
    assert "微信" in caught.value.message


def test_garbled_reply_is_provider_unavailable(app, monkeypatch, fake_wechat):
    fake_wechat.handle = lambda seen: (200, "text/html", b"<html>oops</html>")
    fake_wechat.server.handle = fake_wechat.handle
    with pytest.raises(ProviderUnavailable):
        wechat_mp.code2session("some-code")


def test_not_configured(app, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_MP_APPID", None)
    with pytest.raises(ProviderNotConfigured):
        wechat_mp.code2session("some-code")


# --- the API -----------------------------------------------------------------------------

def test_first_sign_in_creates_the_user_and_the_second_finds_it(client, fake_wechat):
    account = WechatAccount("o-mp-10", "o-web-10", unionid="u-10")
    first = client.post(URL, json={"agree_terms": True, "code": fake_wechat.mp_code(account)})
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert body["is_new"] is True and body["token"] and body["user"]["id"]
    assert body["phone_required"] is False
    assert "session_key" not in first.get_data(as_text=True) and "c2Vzc2lvbi1rZXk=" not in first.get_data(as_text=True)
    user = db.session.get(User, body["user"]["id"])
    assert {(i.provider, i.subject) for i in user.identities} == {("wechat_mp", "o-mp-10"), ("wechat", "u-10")}
    assert db.session.scalar(sa.select(SignInEvent.method).where(SignInEvent.user_id == user.id)) == "api_wechat_mp"

    second = client.post(URL, json={"agree_terms": True, "code": fake_wechat.mp_code(account)})
    assert second.status_code == 200
    assert second.get_json()["is_new"] is False
    assert second.get_json()["user"]["id"] == user.id
    assert count(User) == 1

    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {second.get_json()['token']}"})
    assert me.status_code == 200


def test_a_first_sign_in_needs_consent_an_existing_account_does_not(client, fake_wechat):
    from app.accounts import consent

    account = WechatAccount("o-mp-11", "o-web-11")
    refused = client.post(URL, json={"code": fake_wechat.mp_code(account)})
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "terms_not_accepted"
    assert count(User) == 0
    created = client.post(URL, json={"code": fake_wechat.mp_code(account), "agree_terms": True}).get_json()
    user = db.session.get(User, created["user"]["id"])
    assert user.terms_version == consent.TERMS_VERSION and user.terms_accepted_at is not None
    again = client.post(URL, json={"code": fake_wechat.mp_code(account)})
    assert again.status_code == 200 and again.get_json()["is_new"] is False


@pytest.mark.parametrize(("errcode", "status", "code"), [
    (40029, 422, "wechat_code_invalid"),
    (40163, 422, "wechat_code_used"),
    (45011, 429, "wechat_rate_limited"),
    (40226, 403, "wechat_risky_user"),
    (-1, 502, "wechat_busy"),
])
def test_provider_errors_are_json_errors_and_nothing_is_written(client, fake_wechat, errcode, status, code):
    fake_wechat.fail_with = errcode
    response = client.post(URL, json={"code": "whatever"})
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    assert count(User) == 0 and count(Identity) == 0 and count(ApiToken) == 0


def test_unknown_code_is_422(client, fake_wechat):
    response = client.post(URL, json={"code": "never-issued"})
    assert response.status_code == 422
    assert response.get_json()["error"] == {"code": "wechat_code_invalid", "message": "微信登录凭证无效，请重新登录"}


def test_missing_code_is_422(client, fake_wechat):
    response = client.post(URL, json={})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid"
    assert fake_wechat.requests == []


def test_not_configured_is_503(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_MP_SECRET", None)
    response = client.post(URL, json={"code": "c"})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "provider_not_configured"


def test_unreachable_wechat_is_502_not_500(client, fake_wechat):
    fake_wechat.close()
    response = client.post(URL, json={"code": "c"})
    assert response.status_code == 502
    assert response.get_json()["error"]["code"] == "provider_unavailable"


def test_banned_user_is_refused(client, fake_wechat):
    account = WechatAccount("o-mp-20", "o-web-20")
    user_id = client.post(URL, json={"agree_terms": True, "code": fake_wechat.mp_code(account)}).get_json()["user"]["id"]
    user = db.session.get(User, user_id)
    user.status = UserStatus.BANNED
    db.session.commit()
    tokens_before = count(ApiToken)
    response = client.post(URL, json={"agree_terms": True, "code": fake_wechat.mp_code(account)})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "account_banned"
    assert count(ApiToken) == tokens_before


def test_phone_required_flag_follows_the_setting(client, fake_wechat):
    platform_settings.put("require_phone_for_third_party", True, None)
    db.session.commit()
    body = client.post(URL, json={"agree_terms": True, "code": fake_wechat.mp_code(WechatAccount("o-mp-30", "o-web-30"))}).get_json()
    assert body["phone_required"] is True


def test_openapi_document_lists_the_endpoint(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/auth/login/wechat-mp" in spec["paths"]
