"""Admin user management: search, detail, edit, ban/unban, roles, audit, permissions."""
import sqlalchemy as sa

from app.accounts.models import User
from app.core.models import AuditLog
from app.extensions import db


def admin_client(app, make_user, login, role="super"):
    admin = make_user(admin_role=role, nickname=f"{role}管理员")
    c = app.test_client()
    login(admin, on=c)
    return c, admin


def test_shoppers_and_anonymous_cannot_enter(client, make_user, login):
    assert client.get("/admin/").status_code == 302
    login(make_user())
    for path in ("/admin/", "/admin/users", "/admin/outbound", "/admin/audit", "/admin/settings"):
        assert client.get(path).status_code == 403, path


def test_search_by_id_phone_email_and_nickname(app, make_user, login):
    c, _admin = admin_client(app, make_user, login)
    target = make_user(phone="13512345678", email="find.me@example.com", nickname="找我")
    make_user(nickname="别人")
    for q in (f"#{target.id}", f"id:{target.id}", "1351234", "find.me", "找我"):
        html = c.get("/admin/users", query_string={"q": q}).get_data(as_text=True)
        assert "找我" in html and "别人" not in html, q
    partial = c.get("/admin/users?q=找我", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in partial and "找我" in partial
    assert "没有找到匹配的用户" in c.get("/admin/users?q=zzzz").get_data(as_text=True)


def test_a_phone_tail_finds_the_user_and_ids_need_an_explicit_form(app, make_user, login):
    c, _admin = admin_client(app, make_user, login)
    make_user(phone="13512345678", nickname="尾号用户")
    make_user(nickname="编号用户", id=5678)  # an id that reads like the phone's last four digits
    make_user(nickname="远号用户", id=987654)

    def names(q):
        html = c.get("/admin/users", query_string={"q": q}).get_data(as_text=True)
        return {name for name in ("尾号用户", "编号用户", "远号用户") if name in html}

    assert names("5678") == {"尾号用户"}  # digits are a phone first
    assert names("345678") == {"尾号用户"}
    assert names("#5678") == {"编号用户"} and names("id:5678") == {"编号用户"} and names("ID：5678") == {"编号用户"}
    assert names("987654") == {"远号用户"}  # no phone contains it: then it is an id
    assert names("#99999999999999999999") == set()  # too long for an id: nothing, not a 500


def test_user_list_runs_a_fixed_number_of_queries(app, make_user, login, count_queries):
    c, _admin = admin_client(app, make_user, login)
    for _ in range(3):
        make_user()
    with count_queries() as few:
        c.get("/admin/users")
    for _ in range(15):
        make_user()
    with count_queries() as many:
        c.get("/admin/users")
    assert len(many) == len(few)


def test_detail_shows_identities_addresses_and_sign_ins(app, make_user, login):
    c, _admin = admin_client(app, make_user, login)
    target = make_user(nickname="看我")
    html = c.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert "看我" in html and "登录记录" in html and "收货地址" in html
    assert c.get("/admin/users/999999").status_code == 404


def test_edit_is_audited_and_validated(app, make_user, login):
    c, admin = admin_client(app, make_user, login, role="operator")
    target = make_user(phone="13500001111", nickname="旧名")
    taken = make_user(email="taken@example.com")
    resp = c.post(f"/admin/users/{target.id}/edit", data={"nickname": "新名", "phone": "13500001111", "email": "t@example.com"})
    assert resp.status_code == 302
    row = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "user.update"))
    assert row.actor_id == admin.id and row.changes["nickname"] == ["旧名", "新名"]
    dup = c.post(f"/admin/users/{target.id}/edit", data={"nickname": "新名", "phone": "13500001111", "email": taken.email})
    assert dup.status_code == 422 and "已被其他账号使用" in dup.get_data(as_text=True)
    bad = c.post(f"/admin/users/{target.id}/edit", data={"nickname": "新名", "phone": "123", "email": ""})
    assert bad.status_code == 422
    db.session.expire_all()
    assert db.session.get(User, target.id).email == "t@example.com"


def test_ban_signs_out_everywhere_and_unban(app, client, make_user, login, api_token):
    c, admin = admin_client(app, make_user, login, role="operator")
    target = make_user()
    login(target)
    headers = api_token(target)
    assert client.get("/me").status_code == 200
    empty = c.post(f"/admin/users/{target.id}/ban", data={"reason": ""})
    assert empty.status_code == 422
    resp = c.post(f"/admin/users/{target.id}/ban", data={"reason": "恶意刷单"}, headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "已封禁" in resp.get_data(as_text=True) and "toast" in resp.headers["HX-Trigger"]
    assert client.get("/me").status_code == 302
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    login_api = client.post("/api/v1/auth/login/password", json={"account": target.local_phone, "password": "secret123"})
    assert login_api.status_code == 403 and login_api.json["error"]["code"] == "account_banned"
    assert db.session.scalar(sa.select(AuditLog.action).where(AuditLog.action == "user.ban")) == "user.ban"
    assert c.post(f"/admin/users/{target.id}/unban").status_code == 302
    assert client.post("/login", data={"mode": "password", "account": target.local_phone, "password": "secret123"}).status_code == 302


def test_ban_until_a_date_lapses_by_itself(app, make_user, login):
    from datetime import timedelta

    from app.core.clock import utcnow

    c, _admin = admin_client(app, make_user, login)
    target = make_user()
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    assert c.post(f"/admin/users/{target.id}/ban", data={"reason": "冷静一天", "until": tomorrow}).status_code == 302
    db.session.expire_all()
    banned = db.session.get(User, target.id)
    assert banned.is_banned
    banned.banned_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert not banned.is_banned


def test_roles_limit_what_admins_may_do(app, make_user, login):
    finance, _ = admin_client(app, make_user, login, role="finance")
    operator, _ = admin_client(app, make_user, login, role="operator")
    other_admin = make_user(admin_role="finance")
    shopper = make_user()
    assert finance.get(f"/admin/users/{shopper.id}").status_code == 200  # finance may look
    assert finance.post(f"/admin/users/{shopper.id}/ban", data={"reason": "不行"}).status_code == 403
    assert finance.post(f"/admin/users/{shopper.id}/edit", data={"nickname": "x"}).status_code == 403
    # An operator cannot touch another admin or grant roles (super-admin actions).
    assert operator.post(f"/admin/users/{other_admin.id}/ban", data={"reason": "越权操作"}).status_code == 403
    assert operator.post(f"/admin/users/{shopper.id}/role", data={"role": "super"}).status_code == 403
    assert operator.get("/admin/settings").status_code == 403
    db.session.expire_all()
    assert db.session.get(User, shopper.id).admin_role == "none"
    assert not db.session.get(User, other_admin.id).is_banned


def test_super_admin_grants_roles_and_edits_settings(app, make_user, login):
    c, _admin = admin_client(app, make_user, login)
    shopper = make_user()
    assert c.post(f"/admin/users/{shopper.id}/role", data={"role": "operator"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, shopper.id).admin_role == "operator"
    resp = c.post("/admin/settings", data={"require_phone_for_third_party": "on", "sms_daily_limit_per_phone": "0",
                                          "sms_hourly_limit_per_ip": "30"})
    assert resp.status_code == 422 and "必须大于 0" in resp.get_data(as_text=True)
    ok = c.post("/admin/settings", data={"require_phone_for_third_party": "on", "sms_daily_limit_per_phone": "8",
                                        "sms_hourly_limit_per_ip": "30"})
    assert ok.status_code == 302
    from app.core import settings

    assert settings.get("sms_daily_limit_per_phone") == 8 and settings.get("require_phone_for_third_party") is True
    assert "settings.update" in c.get("/admin/audit").get_data(as_text=True)


def test_dashboard_counts(app, make_user, login):
    c, _admin = admin_client(app, make_user, login)
    make_user()
    html = c.get("/admin/").get_data(as_text=True)
    assert "今日新增用户" in html and "signup-chart" in html


def test_edit_form_shows_the_local_phone(app, make_user, login):
    c, _admin = admin_client(app, make_user, login)
    target = make_user(phone="13522223333")
    html = c.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert 'value="13522223333"' in html and "+8613522223333" not in html.split('name="phone"')[1][:80]


def test_percent_and_underscore_in_a_search_are_plain_characters(app, make_user, login):
    """A `%` or `_` typed into the search used to act as a LIKE wildcard and list everyone."""
    c, _admin = admin_client(app, make_user, login)
    make_user(nickname="普通用户")
    make_user(nickname="百分100%好评")
    for q, found in (("%", True), ("_", False), ("0%", True), ("1_0", False)):
        html = c.get("/admin/users", query_string={"q": q}).get_data(as_text=True)
        assert ("百分100%好评" in html) is found and "普通用户" not in html, q


def test_a_deleted_account_cannot_be_banned(app, make_user, login):
    """Banning a deleted account used to turn it back into a banned (not deleted) one;
    the account lifecycle refuses it, and its page offers no ban form."""
    c, _admin = admin_client(app, make_user, login)
    target = make_user(status="deleted", nickname="")
    assert "封禁原因" not in c.get(f"/admin/users/{target.id}").get_data(as_text=True)
    resp = c.post(f"/admin/users/{target.id}/ban", data={"reason": "恶意刷单"})
    assert resp.status_code in (302, 409, 422)
    db.session.expire_all()
    assert db.session.get(User, target.id).status == "deleted"


def test_the_status_card_offers_what_the_policy_allows(app, make_user, login):
    c, admin = admin_client(app, make_user, login, role="operator")
    shopper = make_user()
    page = c.get(f"/admin/users/{shopper.id}").get_data(as_text=True)
    assert "封禁原因" in page and "解除封禁" not in page
    c.post(f"/admin/users/{shopper.id}/ban", data={"reason": "恶意刷单"})
    page = c.get(f"/admin/users/{shopper.id}").get_data(as_text=True)
    assert "解除封禁" in page and "封禁原因" not in page and "恶意刷单" in page
    other_admin = make_user(admin_role="finance")
    assert "封禁原因" not in c.get(f"/admin/users/{other_admin.id}").get_data(as_text=True)
    assert "封禁原因" not in c.get(f"/admin/users/{admin.id}").get_data(as_text=True)
