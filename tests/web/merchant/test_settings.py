"""Shop settings: owner only, validation that changes nothing, logo uploads,
the shipping rule in words, stock alert channels. (Return addresses and the
after-sales switch: test_return_addresses.py.)"""
import io

import pytest

from app.extensions import db
from app.merchants.models import Merchant, MerchantMember
from tests.factories import png_bytes

GOOD = {
    "name": "阿福杂货铺", "description": "只卖好东西", "contact_name": "阿福", "contact_phone": "13912345678",
    "shipping_flat_yuan": "8", "free_shipping_threshold_yuan": "99.5", "stock_alert_channels": ["insite", "sms"],
}


@pytest.fixture
def shop(app, make_user, make_merchant, login):
    owner = make_user()
    merchant = make_merchant(owner=owner, name="原来的店名", shipping_flat_fen=1000, free_shipping_threshold_fen=20000)
    c = app.test_client()
    login(owner, on=c)
    return c, owner, merchant


def snapshot(merchant_id):
    db.session.expire_all()
    m = db.session.get(Merchant, merchant_id)
    return (m.name, m.description, m.contact_name, m.contact_phone, m.return_recipient, m.return_phone, m.return_address,
            m.shipping_flat_fen, m.free_shipping_threshold_fen, list(m.stock_alert_channels or []), m.logo_key)


def test_form_shows_the_saved_settings_in_yuan_and_local_phones(shop):
    c, _owner, _merchant = shop
    html = c.get("/merchant/settings").get_data(as_text=True)
    assert 'value="原来的店名"' in html and 'value="13900000000"' in html
    assert 'value="10.00"' in html and 'value="200.00"' in html
    assert "每单运费 ¥10.00，商品满 ¥200.00 包邮" in html


def test_owner_saves_every_setting(shop):
    c, _owner, merchant = shop
    response = c.post("/merchant/settings", data=GOOD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/merchant/settings")
    name, description, contact_name, contact_phone, recipient, return_phone, address, flat, threshold, channels, _logo = snapshot(merchant.id)
    assert (name, description, contact_name, contact_phone) == ("阿福杂货铺", "只卖好东西", "阿福", "+8613912345678")
    assert (recipient, return_phone, address) == ("", "", "")  # the address book holds return addresses now
    assert (flat, threshold, channels) == (800, 9950, ["insite", "sms"])
    html = c.get("/merchant/settings").get_data(as_text=True)
    assert "店铺设置已保存" in html and "每单运费 ¥8.00，商品满 ¥99.50 包邮" in html


def test_empty_threshold_means_never_free_and_zero_fee_means_free_shipping(shop):
    c, _owner, merchant = shop
    c.post("/merchant/settings", data={**GOOD, "free_shipping_threshold_yuan": ""})
    assert snapshot(merchant.id)[7:9] == (800, None)
    assert "不设包邮门槛" in c.get("/merchant/settings").get_data(as_text=True)
    c.post("/merchant/settings", data={**GOOD, "shipping_flat_yuan": "0", "free_shipping_threshold_yuan": ""})
    assert snapshot(merchant.id)[7:9] == (0, None)
    assert "全店包邮" in c.get("/merchant/settings").get_data(as_text=True)


@pytest.mark.parametrize("channels", [[], ["email"], ["sms", "email"], ["insite", "sms", "email"]])
def test_any_combination_of_stock_alert_channels(shop, channels):
    c, _owner, merchant = shop
    assert c.post("/merchant/settings", data={**GOOD, "stock_alert_channels": channels}).status_code == 302
    assert snapshot(merchant.id)[9] == channels


@pytest.mark.parametrize(("field", "value", "message"), [
    ("shipping_flat_yuan", "1.234", "请输入正确的金额"),
    ("shipping_flat_yuan", "-1", "请输入正确的金额"),
    ("shipping_flat_yuan", "abc", "请输入正确的金额"),
    ("shipping_flat_yuan", "", "必填"),
    ("free_shipping_threshold_yuan", "0", "包邮门槛必须大于 0"),
    ("free_shipping_threshold_yuan", "0.00", "包邮门槛必须大于 0"),
    ("free_shipping_threshold_yuan", "1.234", "请输入正确的金额"),
    ("free_shipping_threshold_yuan", "-5", "请输入正确的金额"),
    ("contact_phone", "12345", "请输入正确的 11 位手机号"),
    ("name", "阿", "店铺名称为 2 到 30 个字"),
    ("contact_name", "", "请填写联系人"),
    ("stock_alert_channels", ["pigeon"], "请选择有效的提醒方式"),
])
def test_invalid_input_changes_nothing_and_keeps_what_was_typed(shop, field, value, message):
    c, _owner, merchant = shop
    before = snapshot(merchant.id)
    data = {**GOOD, field: value, "description": "我刚刚打的简介"}
    response = c.post("/merchant/settings", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and "is-invalid" in html
    typed = 'value="阿福"' if field != "contact_name" else 'value="阿福杂货铺"'
    assert "我刚刚打的简介" in html and typed in html  # what was typed stays
    if isinstance(value, str) and value:
        assert f'value="{value}"' in html
    assert snapshot(merchant.id) == before


def test_a_name_taken_by_another_shop_is_refused(shop, make_merchant):
    c, _owner, merchant = shop
    make_merchant(name="隔壁老王店")
    before = snapshot(merchant.id)
    response = c.post("/merchant/settings", data={**GOOD, "name": "隔壁老王店"})
    assert response.status_code == 422 and "店铺名称已被使用" in response.get_data(as_text=True)
    assert snapshot(merchant.id) == before


def test_logo_upload_is_stored_and_served_publicly(shop, client):
    c, _owner, merchant = shop
    data = {**GOOD, "logo": (io.BytesIO(png_bytes((120, 120))), "logo.png")}
    assert c.post("/merchant/settings", data=data, content_type="multipart/form-data").status_code == 302
    key = snapshot(merchant.id)[10]
    assert key and key.startswith("logos/") and key.endswith(".png")
    name = key.split("/", 1)[1]
    assert f"/media/logos/{name}" in c.get("/merchant/settings").get_data(as_text=True)
    served = client.get(f"/media/logos/{name}")
    assert served.status_code == 200 and served.mimetype == "image/png"
    # Saving again without a file keeps the logo.
    c.post("/merchant/settings", data=GOOD)
    assert snapshot(merchant.id)[10] == key


@pytest.mark.parametrize(("content", "filename"), [
    (b"just some text, not an image", "logo.png"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>', "logo.svg"),
    (png_bytes(fmt="GIF"), "logo.gif"),
])
def test_bad_logo_files_are_refused_and_change_nothing(shop, app, content, filename):
    c, _owner, merchant = shop
    before = snapshot(merchant.id)
    data = {**GOOD, "logo": (io.BytesIO(content), filename)}
    response = c.post("/merchant/settings", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "只支持 JPEG、PNG 或 WebP 图片" in response.get_data(as_text=True)
    assert snapshot(merchant.id) == before
    from pathlib import Path
    assert not list((Path(app.config["UPLOAD_DIR"]) / "logos").glob("*"))


def test_oversized_logo_is_refused(shop, app, monkeypatch):
    c, _owner, merchant = shop
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 1000)
    before = snapshot(merchant.id)
    data = {**GOOD, "logo": (io.BytesIO(png_bytes((400, 400), color=(1, 2, 3), fmt="JPEG") * 3), "big.jpg")}
    response = c.post("/merchant/settings", data=data, content_type="multipart/form-data")
    assert response.status_code == 422 and "图片不能超过" in response.get_data(as_text=True)
    assert snapshot(merchant.id) == before


def test_staff_and_other_owners_cannot_change_the_settings(shop, app, make_user, make_merchant, login):
    _c, _owner, merchant = shop
    before = snapshot(merchant.id)
    staff = make_user()
    db.session.add(MerchantMember(merchant_id=merchant.id, user_id=staff.id, role="staff"))
    db.session.commit()
    staff_client = login(staff, on=app.test_client())
    assert staff_client.get("/merchant/settings").status_code == 403
    assert staff_client.post("/merchant/settings", data=GOOD).status_code == 403
    # The owner of another shop only ever edits their own shop; pointing the session at ours is a 404.
    other_owner = make_user()
    other = make_merchant(owner=other_owner, name="另一家店")
    other_client = login(other_owner, on=app.test_client())
    assert other_client.post("/merchant/settings", data={**GOOD, "name": "另一家店改名"}).status_code == 302
    with other_client.session_transaction() as session:
        session["merchant_id"] = merchant.id
    assert other_client.post("/merchant/settings", data={**GOOD, "name": "偷改别人的店"}).status_code == 404
    assert snapshot(merchant.id) == before
    assert snapshot(other.id)[0] == "另一家店改名"


def test_shipping_rule_preview_while_typing(shop):
    c, _owner, _merchant = shop
    headers = {"HX-Request": "true"}
    html = c.get("/merchant/settings/shipping-rule?shipping_flat_yuan=6&free_shipping_threshold_yuan=59", headers=headers).get_data(as_text=True)
    assert "每单运费 ¥6.00，商品满 ¥59.00 包邮" in html and "<html" not in html
    bad = c.get("/merchant/settings/shipping-rule?shipping_flat_yuan=1.234", headers=headers).get_data(as_text=True)
    assert "填写正确的金额后" in bad


def test_a_logo_with_too_many_pixels_is_refused_before_decoding(shop, app, monkeypatch):
    c, _owner, merchant = shop
    monkeypatch.setitem(app.config, "UPLOAD_MAX_PIXELS", 100 * 100)
    before = snapshot(merchant.id)
    data = {**GOOD, "logo": (io.BytesIO(png_bytes((400, 400))), "huge.png")}
    response = c.post("/merchant/settings", data=data, content_type="multipart/form-data")
    assert response.status_code == 422 and "图片像素过大" in response.get_data(as_text=True)
    assert snapshot(merchant.id) == before


def test_a_new_logo_replaces_the_old_file(shop, app):
    from pathlib import Path

    c, _owner, merchant = shop
    upload = lambda color: {**GOOD, "logo": (io.BytesIO(png_bytes(color=color)), "logo.png")}  # noqa: E731
    c.post("/merchant/settings", data=upload((1, 2, 3)), content_type="multipart/form-data")
    first = snapshot(merchant.id)[10]
    c.post("/merchant/settings", data=upload((4, 5, 6)), content_type="multipart/form-data")
    second = snapshot(merchant.id)[10]
    root = Path(app.config["UPLOAD_DIR"])
    assert second != first and (root / second).is_file() and not (root / first).exists()
