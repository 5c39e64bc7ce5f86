"""The shop's return addresses (退货地址) and the after-sales switch in the settings: the
owner lists, adds, edits, deletes and picks the default (over HTMX or plain posts),
bad input is refused with its message and saves nothing, at most 10, every write
audited; staff get 403, another shop's address is a 404; the profile's old single
address is kept by a settings save."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.core.models import AuditLog
from app.extensions import db
from app.merchants.models import Merchant, MerchantAddress, MerchantMember
from tests.aftersales.conftest import apply, default_address_id, fresh, owner_of, receive, ship
from tests.web.helpers import text, toast

HX = {"HX-Request": "true"}
GOOD = {"recipient": "售后部", "phone": "138 0013 8000", "address": "浙江省杭州市余杭区仓前街道 1 号", "label": "杭州仓"}


@pytest.fixture
def shop(app, make_user, make_merchant, login):
    owner = make_user()
    merchant = make_merchant(owner=owner)
    return login(owner, on=app.test_client()), owner, merchant


def book(merchant_id: int) -> list[tuple]:
    db.session.expire_all()
    return [(a.recipient, a.phone, a.address, a.label, a.is_default) for a in db.session.scalars(
        sa.select(MerchantAddress).where(MerchantAddress.merchant_id == merchant_id).order_by(MerchantAddress.id))]


def ids(merchant_id: int) -> list[int]:
    return list(db.session.scalars(sa.select(MerchantAddress.id).where(MerchantAddress.merchant_id == merchant_id)
                                   .order_by(MerchantAddress.id)))


def audits(action: str) -> int:
    return db.session.scalar(sa.select(sa.func.count(AuditLog.id)).where(AuditLog.action == action)) or 0


def test_the_owner_adds_edits_defaults_and_deletes_addresses(shop):
    client, owner, merchant = shop
    html = text(client.get("/merchant/settings"))
    assert "还没有退货地址" in html and 'id="return-addresses"' in html and "未发货仅退款自动同意" in html

    response = client.post("/merchant/settings/return-addresses", data=GOOD, headers=HX)
    assert toast(response) == {"message": "退货地址已添加", "level": "success"}
    assert "售后部" in text(response) and "默认" in text(response) and "<html" not in text(response)
    assert book(merchant.id) == [("售后部", "+8613800138000", GOOD["address"], "杭州仓", True)]  # the first is the default

    # a plain post works too, and a second address is not the default unless asked
    response = client.post("/merchant/settings/return-addresses",
                           data={"recipient": "王仓管", "phone": "13900139000", "address": "上海市浦东新区张江路 100 号"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/merchant/settings#return-addresses")
    first, second = ids(merchant.id)
    assert [a[4] for a in book(merchant.id)] == [True, False]
    client.post("/merchant/settings/return-addresses", headers=HX, data={**GOOD, "recipient": "第三仓", "is_default": "1"})
    third = ids(merchant.id)[2]
    assert [a[4] for a in book(merchant.id)] == [False, False, True]

    response = client.post(f"/merchant/settings/return-addresses/{second}/default", headers=HX)
    assert toast(response)["message"] == "已设为默认退货地址"
    assert [a[4] for a in book(merchant.id)] == [False, True, False]

    response = client.post(f"/merchant/settings/return-addresses/{first}", headers=HX,
                           data={"recipient": "售后二部", "phone": "13800138001", "address": "浙江省杭州市西湖区 2 号"})
    assert toast(response)["message"] == "退货地址已保存"
    assert book(merchant.id)[0] == ("售后二部", "+8613800138001", "浙江省杭州市西湖区 2 号", "", False)

    # deleting the default passes it to the oldest one left
    response = client.post(f"/merchant/settings/return-addresses/{second}/delete", headers=HX)
    assert toast(response)["message"] == "退货地址已删除"
    assert ids(merchant.id) == [first, third] and [a[4] for a in book(merchant.id)] == [True, False]
    for action, n in (("merchant.return_address_add", 3), ("merchant.return_address_edit", 1),
                      ("merchant.return_address_default", 1), ("merchant.return_address_delete", 1)):
        assert audits(action) == n, action
    # the page lists them, default first, with the form to add another
    html = text(client.get("/merchant/settings"))
    assert html.index("售后二部") < html.index("第三仓") and "2/10" in html and "新增退货地址" in html


@pytest.mark.parametrize(("field", "value", "message"), [
    ("recipient", "", "收件人为 2 到 20 个字"),
    ("recipient", "王", "收件人为 2 到 20 个字"),
    ("recipient", "王" * 21, "收件人为 2 到 20 个字"),
    ("phone", "", "请输入正确的 11 位手机号"),
    ("phone", "0571-88886666", "请输入正确的 11 位手机号"),
    ("phone", "1" * 300, "请输入正确的 11 位手机号"),
    ("address", "杭州", "详细地址为 5 到 200 个字"),
    ("address", "路" * 201, "详细地址为 5 到 200 个字"),
    ("label", "仓" * 21, "备注名最多 20 个字"),
])
def test_bad_input_is_refused_with_its_message_and_saves_nothing(shop, field, value, message):
    client, _owner, merchant = shop
    response = client.post("/merchant/settings/return-addresses", data={**GOOD, field: value}, headers=HX)
    html = text(response)
    assert response.status_code == 200 and toast(response)["level"] == "danger"
    assert message in html and "is-invalid" in html and 'id="address-new"' in html
    assert 'value="售后部"' in html or field == "recipient"  # what was typed stays
    assert book(merchant.id) == [] and audits("merchant.return_address_add") == 0
    # a plain post re-renders the settings page with the form's message (422)
    response = client.post("/merchant/settings/return-addresses", data={**GOOD, field: value})
    assert response.status_code == 422 and message in text(response) and "店铺设置" in text(response)
    assert book(merchant.id) == []


def test_a_bad_edit_keeps_the_address_as_it_was(shop):
    client, _owner, merchant = shop
    client.post("/merchant/settings/return-addresses", data=GOOD)
    [address_id] = ids(merchant.id)
    before = book(merchant.id)
    response = client.post(f"/merchant/settings/return-addresses/{address_id}", headers=HX,
                           data={**GOOD, "phone": "12345"})
    assert "请输入正确的 11 位手机号" in text(response) and f'id="address-edit-{address_id}"' in text(response)
    assert "collapse show" in text(response) and book(merchant.id) == before


def test_at_most_ten_addresses(shop):
    client, _owner, merchant = shop
    for n in range(10):
        assert client.post("/merchant/settings/return-addresses", data={**GOOD, "label": f"仓{n}"}).status_code == 302
    assert "已达到 10 个地址的上限" in text(client.get("/merchant/settings"))
    response = client.post("/merchant/settings/return-addresses", data={**GOOD, "label": "第十一"}, headers=HX)
    assert toast(response) == {"message": "最多保存 10 个退货地址，请先删除不用的地址", "level": "danger"}
    assert len(ids(merchant.id)) == 10


def test_another_shops_address_is_404_and_unchanged(shop, make_user, make_merchant, login, app):
    client, _owner, merchant = shop
    other_owner = make_user()
    other = make_merchant(owner=other_owner)
    login(other_owner, on=(theirs := app.test_client()))
    theirs.post("/merchant/settings/return-addresses", data=GOOD)
    [address_id] = ids(other.id)
    before = book(other.id)
    for url in (f"/merchant/settings/return-addresses/{address_id}",
                f"/merchant/settings/return-addresses/{address_id}/default",
                f"/merchant/settings/return-addresses/{address_id}/delete",
                "/merchant/settings/return-addresses/99999999999/delete"):
        assert client.post(url, data={**GOOD, "recipient": "偷改"}).status_code == 404, url
        assert toast(client.post(url, data=GOOD, headers=HX))["level"] == "danger", url
    assert book(other.id) == before and book(merchant.id) == []


def test_staff_non_members_and_anonymous_are_refused(shop, make_user, login, app, client):
    owner_client, _owner, merchant = shop
    owner_client.post("/merchant/settings/return-addresses", data=GOOD)
    [address_id] = ids(merchant.id)
    before = book(merchant.id)
    clerk = make_user()
    db.session.add(MerchantMember(merchant_id=merchant.id, user_id=clerk.id, role="staff"))
    db.session.commit()
    staff = login(clerk, on=app.test_client())
    outsider = login(make_user(), on=app.test_client())
    urls = ["/merchant/settings/return-addresses", f"/merchant/settings/return-addresses/{address_id}",
            f"/merchant/settings/return-addresses/{address_id}/default",
            f"/merchant/settings/return-addresses/{address_id}/delete", "/merchant/settings/aftersale-auto-refund"]
    for url in urls:
        assert staff.post(url, data=GOOD).status_code == 403, url
        response = outsider.post(url, data=GOOD)
        assert response.status_code == 302 and response.headers["Location"].endswith("/merchant/"), url
        response = client.post(url, data=GOOD)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    assert book(merchant.id) == before
    db.session.expire_all()
    assert db.session.get(Merchant, merchant.id).aftersale_auto_refund is True


def test_the_auto_refund_switch_is_saved_and_audited(shop):
    client, _owner, merchant = shop
    response = client.post("/merchant/settings/aftersale-auto-refund", data={}, headers=HX)
    assert toast(response)["message"] == "已关闭：未发货的仅退款申请需要你审核"
    assert 'id="aftersale-settings"' in text(response) and "checked" not in text(response)
    db.session.expire_all()
    assert db.session.get(Merchant, merchant.id).aftersale_auto_refund is False
    row = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "merchant.settings"))
    assert row.changes == {"aftersale_auto_refund": [True, False]}
    # the same value again records nothing; a plain post turns it back on
    client.post("/merchant/settings/aftersale-auto-refund", data={"aftersale_auto_refund": "bogus"})
    assert audits("merchant.settings") == 1
    response = client.post("/merchant/settings/aftersale-auto-refund", data={"aftersale_auto_refund": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Merchant, merchant.id).aftersale_auto_refund is True and audits("merchant.settings") == 2


def test_saving_the_settings_form_keeps_the_profiles_old_return_address(shop):
    client, _owner, merchant = shop
    db.session.execute(sa.update(Merchant).where(Merchant.id == merchant.id).values(
        return_recipient="阿福", return_phone="+8613912345678", return_address="上海市浦东新区张江路 1 号"))
    db.session.commit()
    form = {"name": merchant.name, "contact_name": "店主", "contact_phone": "13900000000", "shipping_flat_yuan": "0"}
    assert client.post("/merchant/settings", data=form).status_code == 302
    db.session.expire_all()
    saved = db.session.get(Merchant, merchant.id)
    assert (saved.return_recipient, saved.return_phone, saved.return_address) == (
        "阿福", "+8613912345678", "上海市浦东新区张江路 1 号")


def test_an_approved_request_keeps_the_address_it_was_given(bought, login, app):
    order = receive(ship(bought()))
    aftersale = apply(order, kind="return_refund")
    owner = login(db.session.get(User, owner_of(order).user_id), on=app.test_client())
    owner.post(f"/merchant/aftersales/{aftersale.aftersale_no}/approve",
               data={"return_address_id": default_address_id(order)})
    response = owner.post(f"/merchant/settings/return-addresses/{default_address_id(order)}",
                          data={**GOOD, "address": "上海市浦东新区张江路 100 号"})
    assert response.status_code == 302
    assert fresh(aftersale).return_address["address"] == "浙江省杭州市余杭区仓前街道 1 号"
    assert "浙江省杭州市余杭区仓前街道 1 号" in text(owner.get(f"/merchant/aftersales/{aftersale.aftersale_no}"))
