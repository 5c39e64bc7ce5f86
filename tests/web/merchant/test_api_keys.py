"""API keys in the console: created and shown once, listed by prefix, revoked;
owner only, and never another shop's keys."""
import re

import sqlalchemy as sa

from app.extensions import db
from app.merchants import api_keys
from app.merchants.models import MerchantApiKey, MerchantMember

RAW_KEY = re.compile(r"mk_[A-Za-z0-9_\-]{20,}")


def owner_client(app, make_user, make_merchant, login):
    owner = make_user()
    merchant = make_merchant(owner=owner)
    return login(owner, on=app.test_client()), owner, merchant


def keys_of(merchant_id):
    db.session.expire_all()
    return list(db.session.scalars(sa.select(MerchantApiKey).where(MerchantApiKey.merchant_id == merchant_id)))


def test_create_shows_the_raw_key_once(app, make_user, make_merchant, login, client):
    c, _owner, merchant = owner_client(app, make_user, make_merchant, login)
    response = c.post("/merchant/api-keys", data={"name": "金蝶 ERP"})
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    raw = RAW_KEY.search(html).group(0)
    assert "只显示这一次" in html and 'data-copy="#raw-key"' in html
    (key,) = keys_of(merchant.id)
    assert key.name == "金蝶 ERP" and raw.startswith(key.prefix) and key.key_hash != raw
    # Only the hash is kept: the raw key is in no column and not on the page again.
    assert raw not in repr([getattr(key, col.name) for col in MerchantApiKey.__table__.columns])
    again = c.get("/merchant/api-keys").get_data(as_text=True)
    assert raw not in again and key.prefix in again and "从未使用" in again and "金蝶 ERP" in again
    # The key works on the merchant API.
    assert client.get("/api/v1/merchant/shop", headers={"X-Api-Key": raw}).json["id"] == merchant.id


def test_create_with_htmx_returns_the_box_and_refreshes_the_list(app, make_user, make_merchant, login):
    c, _owner, merchant = owner_client(app, make_user, make_merchant, login)
    response = c.post("/merchant/api-keys", data={"name": "用友"}, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and RAW_KEY.search(html)
    assert 'id="api-key-list"' in html and 'id="api-key-form"' in html and html.count('hx-swap-oob="true"') == 2
    assert "toast" in response.headers["HX-Trigger"] and response.headers["Cache-Control"] == "no-store"
    assert len(keys_of(merchant.id)) == 1


def test_a_key_needs_a_name(app, make_user, make_merchant, login):
    c, _owner, merchant = owner_client(app, make_user, make_merchant, login)
    for name in ("", "   ", "长" * 41):
        response = c.post("/merchant/api-keys", data={"name": name})
        assert response.status_code == 422 and "请给密钥起个名字" in response.get_data(as_text=True)
        htmx = c.post("/merchant/api-keys", data={"name": name}, headers={"HX-Request": "true"})
        assert htmx.headers["HX-Retarget"] == "#api-key-form" and not RAW_KEY.search(htmx.get_data(as_text=True))
    assert keys_of(merchant.id) == []


def test_revoke_with_a_plain_post_and_with_htmx(app, make_user, make_merchant, login, client):
    c, owner, merchant = owner_client(app, make_user, make_merchant, login)
    first, raw_first = api_keys.create_key(owner, merchant.id, "第一个")
    second, _raw = api_keys.create_key(owner, merchant.id, "第二个")
    db.session.commit()
    assert c.post(f"/merchant/api-keys/{first.id}/revoke").status_code == 302
    htmx = c.post(f"/merchant/api-keys/{second.id}/revoke", headers={"HX-Request": "true"})
    html = htmx.get_data(as_text=True)
    assert htmx.status_code == 200 and html.lstrip().startswith("<tr") and "已撤销" in html
    assert all(k.revoked_at is not None for k in keys_of(merchant.id))
    assert client.get("/api/v1/merchant/shop", headers={"X-Api-Key": raw_first}).status_code == 401


def test_an_owner_cannot_revoke_another_shops_key(app, make_user, make_merchant, login, client):
    _c, victim_owner, victim = owner_client(app, make_user, make_merchant, login)
    key, raw = api_keys.create_key(victim_owner, victim.id, "别人的 ERP")
    db.session.commit()
    attacker, _owner, _shop = owner_client(app, make_user, make_merchant, login)
    assert attacker.post(f"/merchant/api-keys/{key.id}/revoke").status_code == 404
    assert "别人的 ERP" not in attacker.get("/merchant/api-keys").get_data(as_text=True)
    assert keys_of(victim.id)[0].revoked_at is None
    assert client.get("/api/v1/merchant/shop", headers={"X-Api-Key": raw}).status_code == 200


def test_staff_and_outsiders_cannot_touch_keys(app, make_user, make_merchant, login):
    _c, owner, merchant = owner_client(app, make_user, make_merchant, login)
    key, _raw = api_keys.create_key(owner, merchant.id, "ERP")
    staff = make_user()
    db.session.add(MerchantMember(merchant_id=merchant.id, user_id=staff.id, role="staff"))
    db.session.commit()
    s = login(staff, on=app.test_client())
    assert s.get("/merchant/api-keys").status_code == 403
    assert s.post("/merchant/api-keys", data={"name": "店员的钥匙"}).status_code == 403
    assert s.post(f"/merchant/api-keys/{key.id}/revoke").status_code == 403
    outsider = login(make_user(), on=app.test_client())
    assert outsider.post(f"/merchant/api-keys/{key.id}/revoke").status_code == 302
    assert [(k.name, k.revoked_at) for k in keys_of(merchant.id)] == [("ERP", None)]


def test_list_shows_last_use_and_an_empty_state(app, make_user, make_merchant, login, client):
    c, owner, merchant = owner_client(app, make_user, make_merchant, login)
    assert "还没有 API 密钥" in c.get("/merchant/api-keys").get_data(as_text=True)
    _key, raw = api_keys.create_key(owner, merchant.id, "ERP")
    db.session.commit()
    client.get("/api/v1/merchant/shop", headers={"X-Api-Key": raw})
    html = c.get("/merchant/api-keys").get_data(as_text=True)
    assert "从未使用" not in html and "有效" in html
