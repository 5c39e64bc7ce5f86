"""The merchant console frame: who gets in, the current merchant in the session,
switching between shops, the dashboard's notices and the status banner."""
from datetime import timedelta

from app.core.clock import utcnow
from app.extensions import db
from app.merchants import penalties, shops
from app.merchants.models import MerchantMember

OWNER_ONLY = ("/merchant/settings", "/merchant/staff", "/merchant/api-keys")


def add_member(merchant, user, role="staff"):
    db.session.add(MerchantMember(merchant_id=merchant.id, user_id=user.id, role=role))
    db.session.commit()


def client_for(app, login, user):
    c = app.test_client()
    login(user, on=c)
    return c


def test_anonymous_users_are_sent_to_sign_in(client):
    for path in ("/merchant/", *OWNER_ONLY):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    assert client.post("/merchant/switch", data={"merchant_id": "1"}).status_code == 302


def test_users_without_a_shop_see_the_landing_and_are_sent_back_from_console_pages(app, make_user, login):
    c = client_for(app, login, make_user())
    home = c.get("/merchant/")
    assert home.status_code == 200 and "平台通知" not in home.get_data(as_text=True)
    for path in OWNER_ONLY:
        response = c.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/merchant/"), path
    assert c.post("/merchant/settings", data={"name": "偷偷开店"}).status_code == 302


def test_owner_dashboard_shows_the_shop_its_figures_and_no_notices(app, make_user, make_merchant, login):
    owner = make_user()
    merchant = make_merchant(owner=owner, name="阿福杂货铺")
    html = client_for(app, login, owner).get("/merchant/").get_data(as_text=True)
    assert "阿福杂货铺" in html and "营业中" in html
    assert "在售商品" in html and "今日付款金额" in html and "功能上线后" not in html
    assert "暂无平台通知" in html
    for label in ("店铺设置", "员工管理", "API 密钥"):
        assert label in html
    assert merchant.id


def test_dashboard_shows_a_warning_after_the_platform_warns(app, make_user, make_merchant, login):
    owner = make_user()
    merchant = make_merchant(owner=owner)
    penalties.warn(make_user(admin_role="operator"), merchant.id, "商品描述与实物不符，请整改")
    db.session.commit()
    html = client_for(app, login, owner).get("/merchant/").get_data(as_text=True)
    assert "商品描述与实物不符，请整改" in html and "警告" in html
    assert "暂无平台通知" not in html
    assert "店铺已被平台暂停营业" not in html  # a warning is not a suspension


def test_suspended_shop_shows_a_banner_with_reason_and_end_to_every_member(app, make_user, make_merchant, login):
    owner, staff = make_user(), make_user()
    merchant = make_merchant(owner=owner)
    add_member(merchant, staff)
    penalties.suspend(make_user(admin_role="operator"), merchant.id, "涉嫌售假，暂停整改", utcnow() + timedelta(days=7))
    db.session.commit()
    for user in (owner, staff):
        html = client_for(app, login, user).get("/merchant/").get_data(as_text=True)
        assert "店铺已被平台暂停营业" in html and "涉嫌售假，暂停整改" in html and "恢复时间" in html
    settings_html = client_for(app, login, owner).get("/merchant/settings").get_data(as_text=True)
    assert "店铺已被平台暂停营业" in settings_html  # on every console page, not just the dashboard


def test_suspension_until_lifted_and_closure_banners(app, make_user, make_merchant, login):
    owner = make_user()
    merchant = make_merchant(owner=owner)
    admin = make_user(admin_role="operator")
    penalties.suspend(admin, merchant.id, "资质待补充", None)
    db.session.commit()
    c = client_for(app, login, owner)
    assert "平台解除后恢复" in c.get("/merchant/").get_data(as_text=True)
    penalties.close(admin, merchant.id, "多次违规，关闭店铺")
    db.session.commit()
    html = c.get("/merchant/").get_data(as_text=True)
    assert "店铺已被平台关闭" in html and "多次违规，关闭店铺" in html and "已关闭" in html


def test_staff_use_the_dashboard_but_not_owner_pages(app, make_user, make_merchant, login):
    owner, staff = make_user(), make_user()
    merchant = make_merchant(owner=owner, name="店员的店")
    add_member(merchant, staff)
    c = client_for(app, login, staff)
    html = c.get("/merchant/").get_data(as_text=True)
    assert "店员的店" in html
    for label in ("员工管理", "API 密钥"):
        assert label not in html
    for path in OWNER_ONLY:
        assert c.get(path).status_code == 403, path
    for path, data in (("/merchant/settings", {"name": "店员改名"}), ("/merchant/staff/invite", {"phone": "13900009999"}),
                       ("/merchant/api-keys", {"name": "ERP"})):
        assert c.post(path, data=data).status_code == 403, path
    db.session.expire_all()
    assert merchant.name == "店员的店"


def test_user_in_several_shops_switches_between_them(app, make_user, make_merchant, login):
    user = make_user()
    mine = make_merchant(owner=user, name="我自己的店")
    other = make_merchant(name="我打工的店")
    add_member(other, user)
    c = client_for(app, login, user)
    html = c.get("/merchant/").get_data(as_text=True)
    assert "切换店铺" in html and "我打工的店" in html
    response = c.post("/merchant/switch", data={"merchant_id": str(other.id)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/merchant/")
    html = c.get("/merchant/").get_data(as_text=True)
    assert "已切换到「我打工的店」" in html
    assert c.get("/merchant/settings").status_code == 403  # staff there
    c.post("/merchant/switch", data={"merchant_id": str(mine.id)})
    assert c.get("/merchant/settings").status_code == 200  # owner here


def test_switching_to_a_shop_one_does_not_belong_to_is_refused(app, make_user, make_merchant, login):
    user = make_user()
    mine = make_merchant(owner=user, name="我的店")
    stranger = make_merchant(name="别人的店")
    c = client_for(app, login, user)
    c.get("/merchant/")
    for value in (str(stranger.id), "999999", "abc", ""):
        response = c.post("/merchant/switch", data={"merchant_id": value})
        assert response.status_code == 404, value
        assert "别人的店" not in response.get_data(as_text=True)
    with c.session_transaction() as session:
        assert session["merchant_id"] == mine.id
    assert "我的店" in c.get("/merchant/").get_data(as_text=True)


def test_a_forged_session_merchant_is_a_404_and_is_forgotten(app, make_user, make_merchant, login):
    user = make_user()
    make_merchant(owner=user, name="真正的店")
    victim = make_merchant(name="别人家的店", description="机密简介")
    c = client_for(app, login, user)
    with c.session_transaction() as session:
        session["merchant_id"] = victim.id
    for path in ("/merchant/", "/merchant/settings"):
        response = c.get(path)
        assert response.status_code == 404
        assert "别人家的店" not in response.get_data(as_text=True)
        with c.session_transaction() as session:
            session["merchant_id"] = victim.id
    response = c.post("/merchant/settings", data={"name": "被改掉了", "contact_name": "x", "contact_phone": "13900000000",
                                                  "shipping_flat_yuan": "0"})
    assert response.status_code == 404
    db.session.expire_all()
    assert victim.name == "别人家的店"
    assert "真正的店" in c.get("/merchant/").get_data(as_text=True)  # the stale choice was dropped


def test_removed_staff_lose_access_on_the_next_request(app, make_user, make_merchant, login):
    owner, staff = make_user(), make_user()
    merchant = make_merchant(owner=owner, name="会被移除的店")
    add_member(merchant, staff)
    c = client_for(app, login, staff)
    assert "会被移除的店" in c.get("/merchant/").get_data(as_text=True)
    member = db.session.query(MerchantMember).filter_by(merchant_id=merchant.id, user_id=staff.id).one()
    shops.remove_staff(owner, merchant.id, member.id)
    db.session.commit()
    response = c.get("/merchant/")
    assert response.status_code == 404 and "会被移除的店" not in response.get_data(as_text=True)
    after = c.get("/merchant/")
    assert after.status_code == 200 and "会被移除的店" not in after.get_data(as_text=True)
    assert "平台通知" not in after.get_data(as_text=True)  # the landing, not a dashboard
