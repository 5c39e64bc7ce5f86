"""WeChat website QR login: the adapter against a fake WeChat server and the
shop's `/login/wechat` flow (state, sign-in, unionid linking, binding,
unbinding, banned users, the require-phone setting)."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from app.accounts import bindings, consent
from app.accounts.models import Identity, SignInEvent, User
from app.accounts.oauth import ProviderUnavailable, wechat_web
from app.accounts.states import UserStatus
from app.core import settings as platform_settings
from app.core.errors import Conflict, ValidationError
from app.extensions import db
from tests.accounts.test_oauth_fakes import FakeWechat, WechatAccount


@pytest.fixture
def fake_wechat(app, monkeypatch):
    fake = FakeWechat()
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
    response = client.get("/login/wechat", query_string=args)
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.fragment == "wechat_redirect"
    return parse_qs(parts.query)["state"][0]


def finish(client, code: str | None, state: str | None):
    args = {k: v for k, v in {"code": code, "state": state}.items() if v is not None}
    return client.get("/login/wechat/callback", query_string=args)


def web_sign_in(client, fake, account, **args):
    state = start(client, **args)
    return finish(client, fake.web_code(account), state)


# --- the adapter -------------------------------------------------------------------------

def test_authorize_url_is_the_qrconnect_page(app, fake_wechat):
    with app.test_request_context():
        url = wechat_web.authorize_url("https://shop.example/login/wechat/callback", "s-1")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://open.wechat.test/connect/qrconnect"
    assert parse_qs(parts.query) == {"appid": ["wx-web-app"], "redirect_uri": ["https://shop.example/login/wechat/callback"],
                                     "response_type": ["code"], "scope": ["snsapi_login"], "state": ["s-1"]}
    assert parts.fragment == "wechat_redirect"


def test_fetch_user_exchanges_the_code_then_reads_userinfo(fake_wechat):
    account = WechatAccount("o-mp-1", "o-web-1", unionid="u-1", nickname="小明")
    user = wechat_web.fetch_user(fake_wechat.web_code(account))
    assert (user.openid, user.unionid, user.nickname, user.avatar_url) == ("o-web-1", "u-1", "小明", account.headimgurl)
    token_call, info_call = fake_wechat.requests
    assert token_call.path == "/sns/oauth2/access_token"
    assert token_call.query["appid"] == "wx-web-app" and token_call.query["secret"] == "web-secret"
    assert token_call.query["grant_type"] == "authorization_code"
    assert info_call.path == "/sns/userinfo"
    assert info_call.query["openid"] == "o-web-1" and info_call.query["access_token"] == "token-o-web-1"


def test_fetch_user_invalid_code(fake_wechat):
    with pytest.raises(ValidationError) as caught:
        wechat_web.fetch_user("never-issued")
    assert caught.value.code == "wechat_code_invalid"


def test_fetch_user_unreachable(fake_wechat):
    fake_wechat.close()
    with pytest.raises(ProviderUnavailable):
        wechat_web.fetch_user("c")


# --- signing in --------------------------------------------------------------------------

def test_new_user_is_created_and_signed_in_then_found_again(client, fake_wechat):
    account = WechatAccount("o-mp-10", "o-web-10", unionid="u-10", nickname="微信小红")
    response = web_sign_in(client, fake_wechat, account, next="/me/addresses")
    assert response.status_code == 302 and response.headers["Location"] == "/me/addresses"
    user_id = signed_in_user_id(client)
    user = db.session.get(User, user_id)
    assert user.nickname == "微信小红" and user.phone is None and user.password_hash is None
    assert {(i.provider, i.subject, i.display_name) for i in user.identities} == {
        ("wechat_web", "o-web-10", "微信小红"), ("wechat", "u-10", "微信小红")}
    assert "欢迎加入商城" in flashes(client)
    assert db.session.scalar(sa.select(SignInEvent.method).where(SignInEvent.user_id == user_id)) == "wechat_web"

    client.post("/logout")
    account.nickname = "改名了"
    response = web_sign_in(client, fake_wechat, account)
    assert response.headers["Location"] == "/me"
    assert signed_in_user_id(client) == user_id
    assert count(User) == 1
    assert db.session.scalar(sa.select(Identity.display_name).where(Identity.subject == "o-web-10")) == "改名了"


def test_unionid_links_mini_program_and_website(client, fake_wechat):
    account = WechatAccount("o-mp-11", "o-web-11", unionid="u-11")
    api = client.post("/api/v1/auth/login/wechat-mp", json={"agree_terms": True, "code": fake_wechat.mp_code(account)})
    mp_user_id = api.get_json()["user"]["id"]
    web_sign_in(client, fake_wechat, account)
    assert signed_in_user_id(client) == mp_user_id
    user = db.session.get(User, mp_user_id)
    assert {i.provider for i in user.identities} == {"wechat_mp", "wechat_web", "wechat"}
    assert count(User) == 1
    # and the other way round: the mini-program finds the website's user
    other = WechatAccount("o-mp-12", "o-web-12", unionid="u-12")
    client.post("/logout")
    web_sign_in(client, fake_wechat, other)
    web_user_id = signed_in_user_id(client)
    api = client.post("/api/v1/auth/login/wechat-mp", json={"agree_terms": True, "code": fake_wechat.mp_code(other)})
    assert api.get_json()["user"]["id"] == web_user_id and api.get_json()["is_new"] is False


def test_without_unionid_mini_program_and_website_are_separate_users(client, fake_wechat):
    account = WechatAccount("o-mp-13", "o-web-13")
    api_user = client.post("/api/v1/auth/login/wechat-mp", json={"agree_terms": True, "code": fake_wechat.mp_code(account)}).get_json()
    web_sign_in(client, fake_wechat, account)
    assert signed_in_user_id(client) != api_user["user"]["id"]


def test_state_mismatch_is_refused_before_asking_wechat(client, fake_wechat):
    start(client)
    response = finish(client, fake_wechat.web_code(WechatAccount("o-mp-14", "o-web-14")), "forged-state")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "登录请求已失效或来源不明，请重新发起" in flashes(client)
    assert fake_wechat.requests == [] and count(User) == 0 and signed_in_user_id(client) is None


def test_callback_without_a_started_flow_is_refused(client, fake_wechat):
    response = finish(client, fake_wechat.web_code(WechatAccount("o-mp-15", "o-web-15")), "some-state")
    assert response.headers["Location"] == "/login"
    assert fake_wechat.requests == [] and count(User) == 0


def test_state_is_single_use(client, fake_wechat):
    account = WechatAccount("o-mp-16", "o-web-16")
    state = start(client)
    finish(client, fake_wechat.web_code(account), state)
    client.post("/logout")
    response = finish(client, fake_wechat.web_code(account), state)
    assert response.headers["Location"] == "/login"
    assert signed_in_user_id(client) is None


def test_expired_state_is_refused(client, fake_wechat, monkeypatch):
    state = start(client)
    with client.session_transaction() as session:
        pending = dict(session["oauth_pending"])
        pending["at"] -= 601
        session["oauth_pending"] = pending
    finish(client, fake_wechat.web_code(WechatAccount("o-mp-17", "o-web-17")), state)
    assert count(User) == 0 and fake_wechat.requests == []


def test_user_who_declines_gets_a_message(client, fake_wechat):
    state = start(client)
    response = finish(client, None, state)
    assert response.headers["Location"] == "/login"
    assert "你已取消微信授权" in flashes(client)
    assert count(User) == 0


@pytest.mark.parametrize(("errcode", "words"), [(40029, "微信登录凭证无效"), (-1, "微信系统繁忙"), (40226, "风险")])
def test_provider_error_shows_a_clear_message_and_writes_nothing(client, fake_wechat, errcode, words):
    fake_wechat.fail_with = errcode
    response = web_sign_in(client, fake_wechat, WechatAccount("o-mp-18", "o-web-18"))
    assert response.headers["Location"] == "/login"
    assert any(words in message for message in flashes(client))
    assert count(User) == 0 and count(Identity) == 0 and count(SignInEvent) == 0
    assert signed_in_user_id(client) is None


def test_banned_user_is_refused(client, fake_wechat):
    account = WechatAccount("o-mp-19", "o-web-19")
    web_sign_in(client, fake_wechat, account)
    user = db.session.get(User, signed_in_user_id(client))
    user.status = UserStatus.BANNED
    db.session.commit()
    client.post("/logout")
    response = web_sign_in(client, fake_wechat, account)
    assert response.headers["Location"] == "/login"
    assert "账号已被封禁，如有疑问请联系客服" in flashes(client)
    assert signed_in_user_id(client) is None


def test_banned_user_is_refused_through_the_unionid_too(client, fake_wechat, make_user):
    account = WechatAccount("o-mp-20", "o-web-20", unionid="u-20")
    client.post("/api/v1/auth/login/wechat-mp", json={"agree_terms": True, "code": fake_wechat.mp_code(account)})
    user = db.session.scalar(sa.select(User))
    user.status = UserStatus.BANNED
    db.session.commit()
    web_sign_in(client, fake_wechat, account)
    assert signed_in_user_id(client) is None
    assert count(Identity) == 2  # the website openid was not linked


# --- binding and unbinding ---------------------------------------------------------------

def test_signed_in_user_binds_wechat(client, fake_wechat, make_user, login):
    user = make_user()
    login(user)
    page = client.get("/me/security").get_data(as_text=True)
    assert 'href="/login/wechat"' in page
    response = web_sign_in(client, fake_wechat, WechatAccount("o-mp-21", "o-web-21", unionid="u-21", nickname="阿明"))
    assert response.headers["Location"] == "/me/security"
    assert "微信已绑定" in flashes(client)
    assert signed_in_user_id(client) == user.id
    db.session.expire_all()
    assert {(i.provider, i.subject) for i in db.session.get(User, user.id).identities} == {
        ("wechat_web", "o-web-21"), ("wechat", "u-21")}
    page = client.get("/me/security").get_data(as_text=True)
    assert "阿明" in page and 'href="/login/wechat"' not in page
    # the bound WeChat now signs in to this user
    client.post("/logout")
    web_sign_in(client, fake_wechat, WechatAccount("o-mp-21", "o-web-21", unionid="u-21"))
    assert signed_in_user_id(client) == user.id


def test_binding_a_wechat_that_belongs_to_someone_else_is_refused(client, fake_wechat, make_user, login):
    account = WechatAccount("o-mp-22", "o-web-22", unionid="u-22")
    client.post("/api/v1/auth/login/wechat-mp", json={"agree_terms": True, "code": fake_wechat.mp_code(account)})
    owner_id = db.session.scalar(sa.select(User.id))
    other = make_user()
    login(other)
    response = web_sign_in(client, fake_wechat, account)
    assert response.headers["Location"] == "/me/security"
    assert "该微信已绑定其他账号" in flashes(client)
    assert db.session.scalars(sa.select(Identity.user_id).distinct()).all() == [owner_id]


def test_bind_flow_finished_by_another_session_user_is_refused(client, fake_wechat, make_user, login):
    first, second = make_user(), make_user()
    login(first)
    state = start(client)
    with client.session_transaction() as session:  # someone else signs in on this browser meanwhile
        session["_user_id"] = second.get_id()
    response = finish(client, fake_wechat.web_code(WechatAccount("o-mp-23", "o-web-23")), state)
    assert response.headers["Location"] == "/login"
    assert count(Identity) == 0 and fake_wechat.requests == []


def test_unbinding_the_only_sign_in_method_is_refused(client, fake_wechat):
    web_sign_in(client, fake_wechat, WechatAccount("o-mp-24", "o-web-24", unionid="u-24"))
    response = client.post("/me/security/unbind/wechat")
    assert response.headers["Location"] == "/me/security"
    assert "这是你唯一的登录方式，不能解除绑定" in flashes(client)
    assert count(Identity) == 2
    user = db.session.get(User, signed_in_user_id(client))
    with pytest.raises(Conflict):
        bindings.unbind(user, "wechat")


def test_unbinding_wechat_works_when_another_method_is_left(client, fake_wechat, make_user, login):
    user = make_user()
    login(user)
    web_sign_in(client, fake_wechat, WechatAccount("o-mp-25", "o-web-25", unionid="u-25"))
    client.post("/me/security/unbind/wechat")
    assert count(Identity) == 0


# --- pages -------------------------------------------------------------------------------

def test_login_page_shows_only_configured_providers(app, client, fake_wechat, monkeypatch):
    monkeypatch.setitem(app.config, "ALIPAY_APP_ID", None)
    page = client.get("/login").get_data(as_text=True)
    assert "微信登录" in page and "支付宝登录" not in page
    monkeypatch.setitem(app.config, "WECHAT_WEB_APPID", None)
    page = client.get("/login").get_data(as_text=True)
    assert "微信登录" not in page and "third-party-login" not in page


def test_login_button_keeps_next_and_asks_for_consent(client, fake_wechat):
    page = client.get("/login?next=/me/addresses").get_data(as_text=True)
    assert 'formaction="/login/wechat"' in page and '<input type="hidden" name="next" value="/me/addresses">' in page
    box = re.search(r'<input[^>]*id="third-party-agree"[^>]*>', page).group(0)
    assert 'name="agree_terms"' in box and "checked" not in box
    assert 'href="/terms"' in page and 'href="/privacy"' in page


def test_third_party_sign_in_needs_the_consent_box_and_records_it(client, fake_wechat):
    response = client.get("/login/wechat", query_string={"next": "/me/addresses"})
    assert response.headers["Location"] == "/login?next=/me/addresses"
    assert "请阅读并同意《用户协议》和《隐私政策》" in flashes(client)
    assert fake_wechat.requests == [] and count(User) == 0
    web_sign_in(client, fake_wechat, WechatAccount("o-mp-29", "o-web-29"))
    user = db.session.get(User, signed_in_user_id(client))
    assert user.terms_version == consent.TERMS_VERSION and user.terms_accepted_at is not None


def test_start_when_not_configured(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_WEB_APPID", None)
    response = client.get("/login/wechat")
    assert response.headers["Location"] == "/login"
    assert "微信登录暂未开通" in flashes(client)


def test_start_does_not_follow_an_outside_next(client, fake_wechat):
    account = WechatAccount("o-mp-26", "o-web-26")
    response = web_sign_in(client, fake_wechat, account, next="https://evil.example/")
    assert response.headers["Location"] == "/me"


def test_an_admin_signing_in_with_wechat_lands_in_the_admin_console(client, fake_wechat):
    account = WechatAccount("o-mp-28", "o-web-28")
    web_sign_in(client, fake_wechat, account)
    user = db.session.get(User, signed_in_user_id(client))
    user.admin_role = "operator"
    db.session.commit()
    client.post("/logout")
    assert web_sign_in(client, fake_wechat, account).headers["Location"] == "/admin/"
    client.post("/logout")
    assert web_sign_in(client, fake_wechat, account, next="/orders").headers["Location"] == "/orders"


# --- require_phone_for_third_party ---------------------------------------------------------

@pytest.fixture
def require_phone():
    platform_settings.put("require_phone_for_third_party", True, None)
    db.session.commit()


def test_require_phone_sends_new_user_to_bind_phone_until_bound(client, fake_wechat, require_phone, outbox, run_jobs):
    response = web_sign_in(client, fake_wechat, WechatAccount("o-mp-27", "o-web-27"), next="/me/addresses")
    assert response.headers["Location"].startswith("/login/bind-phone?next=")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "绑定手机号" in page and 'value="bind"' in page
    # every other shop page sends them back
    blocked = client.get("/me")
    assert blocked.status_code == 302 and blocked.headers["Location"].startswith("/login/bind-phone")
    htmx = client.get("/me/addresses", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"].startswith("/login/bind-phone")
    # the SMS code for purpose "bind" still works, then binding lets them in
    sent = client.post("/auth/sms-code", data={"phone": "13912345678", "purpose": "bind"}, headers={"HX-Request": "true"})
    assert "验证码已发送" in sent.get_data(as_text=True)
    run_jobs()
    code = outbox.last_code("13912345678")
    done = client.post("/login/bind-phone?next=/me/addresses", data={"phone": "13912345678", "code": code})
    assert done.status_code == 302 and done.headers["Location"] == "/me/addresses"
    assert db.session.get(User, signed_in_user_id(client)).phone == "+8613912345678"
    assert client.get("/me").status_code == 200


def test_require_phone_wrong_code_stays_on_the_page(client, fake_wechat, require_phone, outbox, run_jobs):
    web_sign_in(client, fake_wechat, WechatAccount("o-mp-28", "o-web-28"))
    client.post("/auth/sms-code", data={"phone": "13912345679", "purpose": "bind"}, headers={"HX-Request": "true"})
    run_jobs()
    response = client.post("/login/bind-phone", data={"phone": "13912345679", "code": "000000"})
    assert response.status_code == 200 and "验证码不正确" in response.get_data(as_text=True)
    assert db.session.get(User, signed_in_user_id(client)).phone is None


def test_require_phone_applies_again_at_the_next_sign_in(client, fake_wechat, require_phone):
    account = WechatAccount("o-mp-29", "o-web-29")
    web_sign_in(client, fake_wechat, account)
    client.post("/logout")
    response = web_sign_in(client, fake_wechat, account)
    assert response.headers["Location"].startswith("/login/bind-phone")


def test_require_phone_does_not_touch_users_who_have_a_phone(client, fake_wechat, require_phone, make_user, login):
    user = make_user()
    login(user)
    web_sign_in(client, fake_wechat, WechatAccount("o-mp-30", "o-web-30"))
    client.post("/logout")
    response = web_sign_in(client, fake_wechat, WechatAccount("o-mp-30", "o-web-30"))
    assert response.headers["Location"] == "/me"
    assert client.get("/me").status_code == 200


def test_require_phone_off_lets_third_party_users_in(client, fake_wechat):
    response = web_sign_in(client, fake_wechat, WechatAccount("o-mp-31", "o-web-31"))
    assert response.headers["Location"] == "/me"
    assert client.get("/me").status_code == 200
