"""Address book over the API, including another user's ids."""
import sqlalchemy as sa

from app.accounts.models import Address
from app.extensions import db

GOOD = {"recipient": "王先生", "phone": "13812345678", "province_code": "440000", "city_code": "440300",
        "district_code": "440305", "detail": "科技园南区 1 栋"}


def test_crud_and_default(client, make_user, api_token):
    headers = api_token(make_user())
    first = client.post("/api/v1/addresses", json=GOOD, headers=headers)
    assert first.status_code == 201
    assert first.json["province"] == "广东省" and first.json["district"] == "南山区" and first.json["is_default"]
    second = client.post("/api/v1/addresses", json={**GOOD, "detail": "另一个地址", "is_default": True}, headers=headers)
    listed = client.get("/api/v1/addresses", headers=headers).json["items"]
    assert [a["id"] for a in listed if a["is_default"]] == [second.json["id"]]
    patched = client.patch(f"/api/v1/addresses/{first.json['id']}", json={"detail": "改过的地址"}, headers=headers)
    assert patched.status_code == 200 and patched.json["detail"] == "改过的地址"
    assert client.delete(f"/api/v1/addresses/{second.json['id']}", headers=headers).status_code == 204
    remaining = client.get("/api/v1/addresses", headers=headers).json["items"]
    assert len(remaining) == 1 and remaining[0]["is_default"]  # the default moved to what is left


def test_invalid_addresses_are_refused_with_fields(client, make_user, api_token):
    headers = api_token(make_user())
    mismatched = client.post("/api/v1/addresses", json={**GOOD, "city_code": "110100"}, headers=headers)
    assert mismatched.status_code == 422 and "district_code" in mismatched.json["error"]["fields"]
    bad_phone = client.post("/api/v1/addresses", json={**GOOD, "phone": "555"}, headers=headers)
    assert bad_phone.status_code == 422 and "phone" in bad_phone.json["error"]["fields"]
    missing = client.post("/api/v1/addresses", json={"recipient": "x"}, headers=headers)
    assert missing.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(Address.id))) == 0


def test_another_users_address_is_not_found(client, make_user, api_token):
    owner_headers = api_token(make_user())
    address_id = client.post("/api/v1/addresses", json=GOOD, headers=owner_headers).json["id"]
    intruder = api_token(make_user())
    assert client.patch(f"/api/v1/addresses/{address_id}", json={"detail": "hacked"}, headers=intruder).status_code == 404
    assert client.delete(f"/api/v1/addresses/{address_id}", headers=intruder).status_code == 404
    assert client.get("/api/v1/addresses", headers=intruder).json["items"] == []
    db.session.expire_all()
    assert db.session.get(Address, address_id).detail == GOOD["detail"]
