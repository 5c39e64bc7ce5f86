"""Registering, signing in and out, resetting passwords through the HTML pages."""
import re

import sqlalchemy as sa

from app.accounts.models import SignInEvent, User
from app.extensions import db

PHONE = "13912345678"


def request_code(client, run_jobs, outbox, phone=PHONE, purpose="register"):
    resp = client.post("/auth/sms-code", data={"phone": phone, "purpose": purpose}, headers={"HX-Request": "true"})
    assert resp.status_code == 200
    run_jobs()
    return outbox.last_code(phone)


def users_count():
    return db.session.scalar(sa.select(sa.func.count(User.id)))


def test_register_with_phone_signs_in(client, run_jobs, outbox):
    code = request_code(client, run_jobs, outbox)
    resp = client.post("/register", data={"phone": PHONE, "code": code, "password": "abc12345", "agree_terms": "y"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/me")
    page = client.get("/me")
    assert page.status_code == 200
    assert "139****5678" in page.get_data(as_text=True)
    user = db.session.scalar(sa.select(User).where(User.phone == "+86" + PHONE))
    assert user.password_hash.startswith("scrypt:")
    assert db.session.scalar(sa.select(SignInEvent.method).where(SignInEvent.user_id == user.id)) == "register"


def test_registration_needs_the_unticked_consent_box_and_records_it(client, run_jobs, outbox):
    from app.accounts import consent

    page = client.get("/register").get_data(as_text=True)
    box = re.search(r'<input[^>]*id="agree_terms"[^>]*>', page).group(0)
    assert 'type="checkbox"' in box and "checked" not in box
    assert 'href="/terms"' in page and 'href="/privacy"' in page
    code = request_code(client, run_jobs, outbox)
    refused = client.post("/register", data={"phone": PHONE, "code": code, "password": "abc12345"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "请阅读并同意《用户协议》和《隐私政策》" in html
    assert users_count() == 0
    assert f'value="{PHONE}"' in html  # what was typed stays
    done = client.post("/register", data={"phone": PHONE, "code": code, "password": "abc12345", "agree_terms": "y"})
    assert done.status_code == 302  # the same code still works: nothing was used up
    user = db.session.scalar(sa.select(User).where(User.phone == "+86" + PHONE))
    assert user.terms_version == consent.TERMS_VERSION and user.terms_accepted_at is not None


def test_email_registration_asks_for_consent_when_the_account_is_made(client, run_jobs, outbox):
    start = client.get("/register?mode=email").get_data(as_text=True)
    assert 'href="/terms"' in start and 'href="/privacy"' in start
    client.post("/register?mode=email", data={"email": "ok@example.com"})
    run_jobs()
    path = re.sub(r"^https?://[^/]+", "", outbox.last_link("ok@example.com"))
    box = re.search(r'<input[^>]*id="agree_terms"[^>]*>', client.get(path).get_data(as_text=True)).group(0)
    assert "checked" not in box
    refused = client.post(path, data={"password": "abc12345"})
    assert refused.status_code == 200 and "请阅读并同意《用户协议》和《隐私政策》" in refused.get_data(as_text=True)
    assert users_count() == 0
    assert client.post(path, data={"password": "abc12345", "agree_terms": "y"}).status_code == 302
    assert db.session.scalar(sa.select(User.terms_version).where(User.email == "ok@example.com"))


def test_the_agreement_and_the_policy_are_linked_everywhere(client, make_user, login):
    terms, privacy = client.get("/terms"), client.get("/privacy")
    assert terms.status_code == 200 and "用户协议" in terms.get_data(as_text=True)
    text = privacy.get_data(as_text=True)
    for collected in ("手机号", "收货地址", "订单", "浏览", "注销账号", "已注销用户"):
        assert collected in text, collected
    home = client.get("/").get_data(as_text=True)
    assert 'href="/terms"' in home and 'href="/privacy"' in home  # the footer
    login(make_user())
    security = client.get("/me/security").get_data(as_text=True)
    assert 'href="/terms"' in security and 'href="/privacy"' in security


def test_sms_button_answers_htmx_with_countdown(client, run_jobs, outbox):
    resp = client.post("/auth/sms-code", data={"phone": PHONE, "purpose": "register"}, headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert "data-countdown" in html and "验证码已发送" in html
    again = client.post("/auth/sms-code", data={"phone": PHONE, "purpose": "register"}, headers={"HX-Request": "true"})
    html = again.get_data(as_text=True)
    assert "秒后再获取" in html
    # the limit says when it lifts, and the button counts down that long
    wait = int(again.headers["Retry-After"])
    assert 55 <= wait <= 60 and f'data-countdown="{wait}"' in html


def test_bad_registrations_change_nothing(client, run_jobs, outbox, make_user):
    code = request_code(client, run_jobs, outbox)
    before = users_count()
    cases = [
        ({"phone": "12345", "code": code, "password": "abc12345"}, "请输入正确的 11 位手机号"),
        ({"phone": PHONE, "code": "000000" if code != "000000" else "111111", "password": "abc12345"}, "验证码不正确"),
        ({"phone": PHONE, "code": code, "password": "short1"}, "密码至少 8 位"),
        ({"phone": PHONE, "code": code, "password": "abcdefgh"}, "密码需同时包含字母和数字"),
    ]
    for data, message in cases:
        data["agree_terms"] = "y"
        resp = client.post("/register", data=data)
        assert resp.status_code == 200, data
        assert message in resp.get_data(as_text=True)
    assert users_count() == before
    make_user(phone="13700000000")
    resp = client.post("/auth/sms-code", data={"phone": "13700000000", "purpose": "register"})
    assert resp.status_code == 302  # plain post: back with a flash
    with client.session_transaction() as session:
        assert any("已注册" in m for _c, m in session.get("_flashes", []))


def test_password_sign_in_by_phone_and_email_and_generic_failure(client, make_user):
    make_user(phone="13711112222", email="zhang@example.com")
    assert client.post("/login", data={"mode": "password", "account": "13711112222", "password": "secret123"}).status_code == 302
    client.post("/logout")
    assert client.get("/me").status_code == 302
    assert client.post("/login", data={"mode": "password", "account": "ZHANG@example.com", "password": "secret123"}).status_code == 302
    client.post("/logout")
    wrong = client.post("/login", data={"mode": "password", "account": "13711112222", "password": "nope1234"})
    unknown = client.post("/login", data={"mode": "password", "account": "13799998888", "password": "nope1234"})
    # The same words whether or not the account exists.
    assert "账号或密码错误" in wrong.get_data(as_text=True)
    assert "账号或密码错误" in unknown.get_data(as_text=True)


def test_failed_sign_ins_are_throttled_per_account(client, make_user):
    make_user(phone="13711113333")
    for _ in range(5):
        client.post("/login", data={"mode": "password", "account": "13711113333", "password": "bad00000"})
    resp = client.post("/login", data={"mode": "password", "account": "13711113333", "password": "secret123"})
    assert "尝试次数过多" in resp.get_data(as_text=True)
    assert client.get("/me").status_code == 302


def test_sms_sign_in(client, run_jobs, outbox, make_user):
    make_user(phone="13711114444")
    code = request_code(client, run_jobs, outbox, "13711114444", "login")
    resp = client.post("/login", data={"mode": "sms", "phone": "13711114444", "code": code})
    assert resp.status_code == 302
    assert client.get("/me").status_code == 200


def test_sms_code_for_unknown_number_sends_nothing_but_looks_the_same(client, run_jobs, outbox):
    resp = client.post("/auth/sms-code", data={"phone": "13755556666", "purpose": "login"}, headers={"HX-Request": "true"})
    assert "验证码已发送" in resp.get_data(as_text=True)
    run_jobs()
    assert outbox.sms() == []


def test_email_registration_by_link(client, run_jobs, outbox):
    resp = client.post("/register?mode=email", data={"email": "Li@Example.com"})
    assert "请查收邮件" in resp.get_data(as_text=True)
    run_jobs()
    link = outbox.last_link("li@example.com")
    path = re.sub(r"^https?://[^/]+", "", link)
    page = client.get(path)
    assert page.status_code == 200 and "li@example.com" in page.get_data(as_text=True)
    assert client.post(path, data={"password": "abc12345", "agree_terms": "y"}).status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "li@example.com"))
    assert user.email_verified_at is not None
    client.post("/logout")
    assert client.get(path).status_code == 400  # single use


def test_email_registration_of_known_address_mails_a_notice(client, run_jobs, outbox, make_user):
    make_user(email="known@example.com")
    resp = client.post("/register?mode=email", data={"email": "known@example.com"})
    assert "请查收邮件" in resp.get_data(as_text=True)  # same answer as for a new address
    run_jobs()
    (mail,) = outbox.mails()
    assert mail["To"] == "known@example.com" and "已经注册" in mail.get_body(("plain",)).get_content()


def test_reset_password_by_sms_signs_out_everywhere(client, app, run_jobs, outbox, make_user, login):
    user = make_user(phone="13711115555")
    other = app.test_client()
    login(user, on=other)
    assert other.get("/me").status_code == 200
    code = request_code(client, run_jobs, outbox, "13711115555", "reset")
    resp = client.post("/password/forgot?mode=sms", data={"phone": "13711115555", "code": code, "password": "newpass99"})
    assert resp.status_code == 302
    assert other.get("/me").status_code == 302  # the old session is dead
    assert client.post("/login", data={"mode": "password", "account": "13711115555", "password": "newpass99"}).status_code == 302


def test_reset_password_by_email_link(client, run_jobs, outbox, make_user):
    make_user(email="wang@example.com")
    client.post("/password/forgot?mode=email", data={"email": "wang@example.com"})
    run_jobs()
    path = re.sub(r"^https?://[^/]+", "", outbox.last_link("wang@example.com"))
    assert client.post(path, data={"password": "weak"}).status_code == 200
    assert client.post(path, data={"password": "better123"}).status_code == 302
    assert client.post(path, data={"password": "again1234"}).status_code == 400
    assert client.post("/login", data={"mode": "password", "account": "wang@example.com", "password": "better123"}).status_code == 302


def test_used_or_expired_reset_link_says_so_and_offers_a_new_one(client, run_jobs, outbox, make_user, monkeypatch):
    make_user(email="used@example.com")
    client.post("/password/forgot?mode=email", data={"email": "used@example.com"})
    run_jobs()
    path = re.sub(r"^https?://[^/]+", "", outbox.last_link("used@example.com"))
    assert 'name="password"' in client.get(path).get_data(as_text=True)  # a live link shows the form
    assert client.post(path, data={"password": "better123"}).status_code == 302
    client.post("/logout")
    for page in (client.get(path), client.get(path[:-3] + "abc")):  # used, and tampered with
        html = page.get_data(as_text=True)
        assert page.status_code == 400
        assert 'name="password"' not in html  # no form that looks usable
        assert "链接已失效" in html and 'href="/password/forgot?mode=email"' in html and "重新获取重置链接" in html
    client.post("/password/forgot?mode=email", data={"email": "used@example.com"})
    run_jobs()
    fresh = re.sub(r"^https?://[^/]+", "", outbox.last_link("used@example.com"))
    from app.accounts import codes
    monkeypatch.setattr(codes, "LINK_TTL_SECONDS", -1)  # as if 24 hours had passed
    expired = client.get(fresh)
    assert expired.status_code == 400 and "链接已过期" in expired.get_data(as_text=True)
    assert 'name="password"' not in expired.get_data(as_text=True)


def test_sign_out_everywhere_kills_other_sessions(client, app, make_user, login):
    user = make_user()
    phone_session = app.test_client()
    login(user, on=phone_session)
    login(user)
    assert client.post("/logout/everywhere").status_code == 302
    assert phone_session.get("/me").status_code == 302


def test_sign_in_starts_a_fresh_session(client, make_user):
    make_user(phone="13711116666")
    with client.session_transaction() as session:
        session["planted"] = "attacker"
    client.post("/login", data={"mode": "password", "account": "13711116666", "password": "secret123"})
    with client.session_transaction() as session:
        assert "planted" not in session


def test_next_parameter_only_follows_local_paths(client, make_user):
    make_user(phone="13711117777")
    resp = client.post("/login?next=//evil.example/x", data={"mode": "password", "account": "13711117777", "password": "secret123"})
    assert resp.headers["Location"].endswith("/me")


def test_back_office_users_land_in_their_console_unless_next_says_otherwise(app, client, run_jobs, outbox, make_user,
                                                                         make_merchant):
    from app.merchants.models import MerchantMember

    make_user(phone="13711118881", admin_role="operator")
    make_user(phone="13711118882")
    staff = make_user(phone="13711118883")
    shop = make_merchant()
    db.session.add(MerchantMember(merchant_id=shop.id, user_id=staff.id, role="staff"))
    db.session.commit()

    def password_sign_in(phone, query=""):
        fresh = app.test_client()
        resp = fresh.post(f"/login{query}", data={"mode": "password", "account": phone, "password": "secret123"})
        return fresh, resp.headers["Location"]

    admin_client, landed = password_sign_in("13711118881")
    assert landed == "/admin/"
    assert admin_client.get("/login").headers["Location"] == "/admin/"  # already signed in
    assert password_sign_in("13711118883")[1] == "/merchant/"
    assert password_sign_in("13711118882")[1] == "/me"
    assert password_sign_in("13711118881", "?next=/orders")[1] == "/orders"  # an explicit next wins
    code = request_code(client, run_jobs, outbox, "13711118883", "login")
    resp = client.post("/login", data={"mode": "sms", "phone": "13711118883", "code": code})
    assert resp.headers["Location"] == "/merchant/"


def test_language_switch_keeps_english_in_a_cookie(client):
    resp = client.get("/lang/en")
    assert "lang=en" in resp.headers["Set-Cookie"]
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in page
