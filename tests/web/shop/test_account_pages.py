"""我的: profile and avatar, addresses, security (bind/unbind), permissions."""
import io

import sqlalchemy as sa
from PIL import Image

from app.accounts.models import Address, User
from app.extensions import db

ADDRESS = {"recipient": "李四", "phone": "13600001111", "province_code": "110000", "city_code": "110100",
           "district_code": "110105", "detail": "建国路 93 号", "is_default": "y"}


def png(size=(64, 64)):
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, "PNG")
    return buf.getvalue()


def test_pages_need_sign_in(client):
    for path in ("/me", "/me/profile", "/me/security", "/me/addresses", "/messages"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], path


def test_profile_nickname_and_avatar(client, make_user, login):
    user = make_user()
    login(user)
    resp = client.post("/me/profile", data={"nickname": "新名字", "avatar": (io.BytesIO(png()), "me.png")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    db.session.expire_all()
    saved = db.session.get(User, user.id)
    assert saved.nickname == "新名字" and saved.avatar_key.startswith("avatars/")
    served = client.get("/media/avatars/" + saved.avatar_key.split("/")[1])
    assert served.status_code == 200 and served.mimetype == "image/png"


def test_bad_avatar_changes_nothing(client, make_user, login):
    user = make_user(nickname="原名")
    login(user)
    resp = client.post("/me/profile", data={"nickname": "改名", "avatar": (io.BytesIO(b"not an image"), "x.png")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200 and "只支持 JPEG、PNG 或 WebP 图片" in resp.get_data(as_text=True)
    db.session.expire_all()
    saved = db.session.get(User, user.id)
    assert saved.nickname == "原名" and saved.avatar_key is None
    too_big = client.post("/me/profile", data={"nickname": "改名", "avatar": (io.BytesIO(b"x" * (21 * 1024 * 1024)), "x.png")},
                          content_type="multipart/form-data")
    assert too_big.status_code == 413


def test_address_book_through_pages(client, make_user, login):
    user = make_user()
    login(user)
    assert "还没有收货地址" in client.get("/me/addresses").get_data(as_text=True)
    assert client.post("/me/addresses/new", data=ADDRESS).status_code == 302
    page = client.get("/me/addresses").get_data(as_text=True)
    assert "李四" in page and "北京市 朝阳区" in page
    bad = client.post("/me/addresses/new", data={**ADDRESS, "district_code": "310104"})
    assert bad.status_code == 200 and "请选择完整的省、市、区" in bad.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Address.id)).where(Address.user_id == user.id)) == 1


def test_region_picker_endpoints(client):
    html = client.get("/regions/children?province_code=440000", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "深圳市" in html and 'id="district-select"' in html
    data = client.get("/regions/children?code=440300").json
    assert {"code": "440305", "name": "南山区"} in data["items"]


def test_another_users_address_is_refused(client, app, make_user, login):
    owner = make_user()
    login(owner)
    client.post("/me/addresses/new", data=ADDRESS)
    address_id = db.session.scalar(sa.select(Address.id).where(Address.user_id == owner.id))
    intruder = app.test_client()
    login(make_user(), on=intruder)
    assert intruder.get(f"/me/addresses/{address_id}/edit").status_code == 404
    assert intruder.post(f"/me/addresses/{address_id}/edit", data={**ADDRESS, "detail": "偷改"}).status_code == 404
    assert intruder.post(f"/me/addresses/{address_id}/delete").status_code == 404
    assert intruder.post(f"/me/addresses/{address_id}/default").status_code == 404
    db.session.expire_all()
    assert db.session.get(Address, address_id).detail == ADDRESS["detail"]


def test_change_password_keeps_this_session_and_ends_others(client, app, make_user, login):
    user = make_user()
    other = app.test_client()
    login(user, on=other)
    login(user)
    wrong = client.post("/me/security", data={"current_password": "nope", "new_password": "another99"})
    assert "当前密码不正确" in wrong.get_data(as_text=True)
    assert client.post("/me/security", data={"current_password": "secret123", "new_password": "another99"}).status_code == 302
    assert client.get("/me").status_code == 200
    assert other.get("/me").status_code == 302


def test_bind_phone_with_code_and_unbind_rules(client, run_jobs, outbox, make_user, login):
    user = make_user(phone=None, email="only@example.com")
    login(user)
    client.post("/auth/sms-code", data={"phone": "13600002222", "purpose": "bind"})
    run_jobs()
    code = outbox.last_code("13600002222")
    assert client.post("/me/security/phone", data={"phone": "13600002222", "code": code}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).phone == "+8613600002222"
    assert client.post("/me/security/unbind/email").status_code == 302
    client.post("/me/security/unbind/phone")  # now the last method: refused
    db.session.expire_all()
    saved = db.session.get(User, user.id)
    assert saved.phone == "+8613600002222" and saved.email is None
    page = client.get("/me/security").get_data(as_text=True)
    assert "未绑定" in page


def test_bind_email_by_link(client, run_jobs, outbox, make_user, login):
    import re

    user = make_user()
    login(user)
    client.post("/me/security/email", data={"email": "new@example.com"})
    run_jobs()
    path = re.sub(r"^https?://[^/]+", "", outbox.last_link("new@example.com"))
    other = make_user()
    login(other)
    client.get(path)  # another signed-in user cannot use the link
    db.session.expire_all()
    assert db.session.get(User, other.id).email is None
    login(user)
    client.get(path)
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "new@example.com"


def test_banned_user_session_ends_at_once(client, make_user, login):
    from app.accounts import admin_services
    from app.core.db import transaction

    admin = make_user(admin_role="super")
    user = make_user()
    login(user)
    assert client.get("/me").status_code == 200
    with transaction():
        admin_services.ban_user(admin, db.session.get(User, user.id), "刷单", None)
    assert client.get("/me").status_code == 302
    resp = client.post("/login", data={"mode": "password", "account": user.local_phone, "password": "secret123"})
    assert "账号已被封禁" in resp.get_data(as_text=True)


def test_tab_bar_lights_the_right_tab(client, make_user, login):
    from app.web.templating import shop_tab

    assert shop_tab("shop.address_edit") == "me" and shop_tab("shop.messages") == "me"
    assert shop_tab("shop.home") == "home" and shop_tab("shop.cart") == "cart"
    assert shop_tab("shop.shop_page") is None and shop_tab(None) is None
    login(make_user())
    html = client.get("/me/addresses").get_data(as_text=True)
    assert 'href="/me" class="active"' in html and 'href="/" class="active"' not in html


def test_big_counts_follow_the_language(app):
    from flask_babel import refresh

    from app.web.templating import compact

    with app.test_request_context("/"):
        assert compact(22000) == "2.2万"
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        refresh()
        assert compact(22000) == "22K"
