"""Alipay sign-in: the adapter against a fake gateway that checks our RSA2
request signature and signs its replies with a platform key made in the test,
and the shop's `/login/alipay` flow."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from app.accounts.models import Identity, SignInEvent, User
from app.accounts.oauth import ProviderNotConfigured, ProviderUnavailable, alipay
from app.accounts.states import UserStatus
from app.core.errors import ValidationError
from app.extensions import db
from tests.accounts.test_oauth_fakes import AlipayAccount, FakeAlipay, rsa_pem_pair


@pytest.fixture
def fake_alipay(app, monkeypatch):
    fake = FakeAlipay()
    fake.configure(app, monkeypatch)
    yield fake
    fake.close()


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def flashes(client) -> list[str]:
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def signed_in_user_id(client) -> int | None:
    with client.session_transaction() as session:
        value = session.get("_user_id")
    return int(value.split(":")[0]) if value else None


def start(client, **args) -> str:
    args.setdefault("agree_terms", "y")  # the login page's consent box, ticked
    response = client.get("/login/alipay", query_string=args)
    assert response.status_code == 302
    return parse_qs(urlsplit(response.headers["Location"]).query)["state"][0]


def finish(client, auth_code: str | None, state: str | None, app_id="2021000000000001"):
    args = {"app_id": app_id, "source": "alipay_wallet", "scope": "auth_user"}
    if auth_code is not None:
        args["auth_code"] = auth_code
    if state is not None:
        args["state"] = state
    return client.get("/login/alipay/callback", query_string=args)


def web_sign_in(client, fake, account, **args):
    state = start(client, **args)
    return finish(client, fake.auth_code(account), state)


# --- the adapter -------------------------------------------------------------------------

def test_authorize_url(app, fake_alipay):
    with app.test_request_context():
        url = alipay.authorize_url("https://shop.example/login/alipay/callback", "st")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://openauth.alipay.test/oauth2/publicAppAuthorize.htm"
    assert parse_qs(parts.query) == {"app_id": [fake_alipay.app_id], "scope": ["auth_user"],
                                     "redirect_uri": ["https://shop.example/login/alipay/callback"], "state": ["st"]}


def test_fetch_user_signs_both_calls_and_verifies_both_replies(fake_alipay):
    account = AlipayAccount("2088000000000011", nick_name="支付宝小王")
    user = alipay.fetch_user(fake_alipay.auth_code(account))
    assert (user.user_id, user.nickname, user.avatar_url) == ("2088000000000011", "支付宝小王", account.avatar)
    assert fake_alipay.verified == ["alipay.system.oauth.token", "alipay.user.info.share"]
    token_call, info_call = fake_alipay.requests
    # common parameters in the query string, the API's own in the form body
    assert token_call.query["method"] == "alipay.system.oauth.token"
    assert token_call.query["sign_type"] == "RSA2" and token_call.query["charset"] == "utf-8"
    assert token_call.query["format"] == "JSON" and token_call.query["version"] == "1.0"
    datetime.strptime(token_call.query["timestamp"], "%Y-%m-%d %H:%M:%S")
    assert token_call.form == {"grant_type": "authorization_code", "code": token_call.form["code"]}
    assert info_call.query["method"] == "alipay.user.info.share"
    assert info_call.query["auth_token"] == "authusrB2088000000000011"


def test_keys_given_as_bare_base64_work(app, monkeypatch, fake_alipay):
    fake_alipay.configure(app, monkeypatch, bare_keys=True)
    assert alipay.fetch_user(fake_alipay.auth_code(AlipayAccount("2088000000000012"))).user_id == "2088000000000012"


def test_open_id_apps(fake_alipay):
    account = AlipayAccount("074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5", uses_open_id=True)
    assert alipay.fetch_user(fake_alipay.auth_code(account)).user_id == account.user_id


def test_reply_with_escaped_slashes_still_verifies(fake_alipay):
    fake_alipay.escape_slashes = True
    account = AlipayAccount("2088000000000013")
    assert alipay.fetch_user(fake_alipay.auth_code(account)).avatar_url == account.avatar


def test_tampered_reply_is_refused(fake_alipay):
    fake_alipay.tamper = True
    with pytest.raises(ProviderUnavailable) as caught:
        alipay.fetch_user(fake_alipay.auth_code(AlipayAccount("2088000000000014")))
    assert caught.value.code == "alipay_bad_signature"
    assert "验签失败" in caught.value.message


def test_unsigned_success_reply_is_refused(fake_alipay):
    fake_alipay.unsigned = True
    with pytest.raises(ProviderUnavailable) as caught:
        alipay.fetch_user(fake_alipay.auth_code(AlipayAccount("2088000000000015")))
    assert caught.value.code == "alipay_bad_signature"


def test_reply_signed_by_another_key_is_refused(app, monkeypatch, fake_alipay):
    _key, _private, stranger_public = rsa_pem_pair()
    monkeypatch.setitem(app.config, "ALIPAY_PUBLIC_KEY", stranger_public)
    with pytest.raises(ProviderUnavailable) as caught:
        alipay.fetch_user(fake_alipay.auth_code(AlipayAccount("2088000000000016")))
    assert caught.value.code == "alipay_bad_signature"


def test_request_signed_with_the_wrong_app_key_is_refused_by_the_gateway(app, monkeypatch, fake_alipay):
    _key, stranger_private, _public = rsa_pem_pair()
    monkeypatch.setitem(app.config, "ALIPAY_APP_PRIVATE_KEY", stranger_private)
    with pytest.raises(ProviderUnavailable) as caught:
        alipay.fetch_user(fake_alipay.auth_code(AlipayAccount("2088000000000017")))
    assert caught.value.code == "alipay_config_error"
    assert fake_alipay.verified == []


def test_invalid_or_used_auth_code(fake_alipay):
    code = fake_alipay.auth_code(AlipayAccount("2088000000000018"))
    alipay.fetch_user(code)
    with pytest.raises(ValidationError) as caught:
        alipay.fetch_user(code)
    assert caught.value.code == "alipay_code_invalid"
    assert caught.value.message == "支付宝授权码无效或已使用，请重新登录"


def test_profile_failure_does_not_stop_the_sign_in(fake_alipay):
    fake_alipay.info_error = {"code": "40006", "msg": "Insufficient Permissions", "sub_code": "isv.insufficient-isv-permissions",
                              "sub_msg": "ISV权限不足"}
    user = alipay.fetch_user(fake_alipay.auth_code(AlipayAccount("2088000000000019")))
    assert user.user_id == "2088000000000019" and user.nickname is None


def test_unreachable_gateway(fake_alipay):
    fake_alipay.close()
    with pytest.raises(ProviderUnavailable) as caught:
        alipay.fetch_user("auth0001")
    assert "支付宝" in caught.value.message


def test_unreadable_private_key_is_a_configuration_error(app, monkeypatch, fake_alipay):
    monkeypatch.setitem(app.config, "ALIPAY_APP_PRIVATE_KEY", "not a key")
    with pytest.raises(ProviderNotConfigured) as caught:
        alipay.fetch_user("auth0001")
    assert caught.value.code == "alipay_config_error"
    assert fake_alipay.requests == []


# --- the shop flow -------------------------------------------------------------------------

def test_new_user_created_then_found_again(client, fake_alipay):
    account = AlipayAccount("2088000000000101", nick_name="阿里小李")
    response = web_sign_in(client, fake_alipay, account)
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    user_id = signed_in_user_id(client)
    user = db.session.get(User, user_id)
    assert user.nickname == "阿里小李"
    assert [(i.provider, i.subject) for i in user.identities] == [("alipay", "2088000000000101")]
    assert db.session.scalar(sa.select(SignInEvent.method).where(SignInEvent.user_id == user_id)) == "alipay"
    client.post("/logout")
    web_sign_in(client, fake_alipay, account)
    assert signed_in_user_id(client) == user_id and count(User) == 1


def test_state_mismatch_is_refused(client, fake_alipay):
    start(client)
    response = finish(client, fake_alipay.auth_code(AlipayAccount("2088000000000102")), "forged")
    assert response.headers["Location"] == "/login"
    assert "登录请求已失效或来源不明，请重新发起" in flashes(client)
    assert fake_alipay.requests == [] and count(User) == 0


def test_state_from_the_wechat_flow_does_not_open_the_alipay_callback(app, client, fake_alipay, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_WEB_APPID", "wx")
    monkeypatch.setitem(app.config, "WECHAT_WEB_SECRET", "s")
    location = client.get("/login/wechat?agree_terms=y").headers["Location"]
    state = parse_qs(urlsplit(location).query)["state"][0]
    finish(client, fake_alipay.auth_code(AlipayAccount("2088000000000103")), state)
    assert fake_alipay.requests == [] and count(User) == 0


def test_gateway_error_shows_a_clear_message_and_writes_nothing(client, fake_alipay):
    state = start(client)
    response = finish(client, "auth-never-issued", state)
    assert response.headers["Location"] == "/login"
    assert "支付宝授权码无效或已使用，请重新登录" in flashes(client)
    assert count(User) == 0 and count(Identity) == 0 and signed_in_user_id(client) is None


def test_bad_signature_shows_a_clear_message_and_writes_nothing(client, fake_alipay):
    fake_alipay.tamper = True
    web_sign_in(client, fake_alipay, AlipayAccount("2088000000000104"))
    assert "支付宝返回的数据验签失败，请稍后再试" in flashes(client)
    assert count(User) == 0 and count(Identity) == 0


def test_banned_user_is_refused(client, fake_alipay):
    account = AlipayAccount("2088000000000105")
    web_sign_in(client, fake_alipay, account)
    user = db.session.get(User, signed_in_user_id(client))
    user.status = UserStatus.BANNED
    db.session.commit()
    client.post("/logout")
    web_sign_in(client, fake_alipay, account)
    assert signed_in_user_id(client) is None
    assert "账号已被封禁，如有疑问请联系客服" in flashes(client)


def test_bind_alipay_to_signed_in_user_and_refuse_someone_elses(client, fake_alipay, make_user, login):
    owner, other = make_user(), make_user()
    login(owner)
    assert 'href="/login/alipay"' in client.get("/me/security").get_data(as_text=True)
    account = AlipayAccount("2088000000000106", nick_name="老王")
    response = web_sign_in(client, fake_alipay, account)
    assert response.headers["Location"] == "/me/security"
    assert "支付宝已绑定" in flashes(client)
    assert db.session.scalar(sa.select(Identity.user_id).where(Identity.subject == account.user_id)) == owner.id

    client.post("/logout")
    login(other)
    web_sign_in(client, fake_alipay, account)
    assert "该支付宝账号已绑定其他账号" in flashes(client)
    assert db.session.scalars(sa.select(Identity.user_id)).all() == [owner.id]
    assert signed_in_user_id(client) == other.id


def test_second_alipay_account_for_the_same_user_is_refused(client, fake_alipay, make_user, login):
    user = make_user()
    login(user)
    web_sign_in(client, fake_alipay, AlipayAccount("2088000000000107"))
    web_sign_in(client, fake_alipay, AlipayAccount("2088000000000108"))
    assert "你已绑定另一个支付宝账号，请先解除绑定" in flashes(client)
    assert db.session.scalars(sa.select(Identity.subject)).all() == ["2088000000000107"]


def test_unbind_alipay_refused_when_it_is_the_only_method(client, fake_alipay):
    web_sign_in(client, fake_alipay, AlipayAccount("2088000000000109"))
    client.post("/me/security/unbind/alipay")
    assert "这是你唯一的登录方式，不能解除绑定" in flashes(client)
    assert count(Identity) == 1


def test_login_page_shows_alipay_when_configured(client, fake_alipay):
    page = client.get("/login").get_data(as_text=True)
    assert "支付宝登录" in page and 'formaction="/login/alipay"' in page
