"""注销账号 from 账号与安全: confirmation, each refusal naming what stands in the way,
the anonymisation (orders kept, buyer shown as 已注销用户, sessions and tokens dead,
the phone free to register again), the audit row, and nobody else can trigger it."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.accounts import addresses, deletion
from app.accounts.models import Address, ApiToken, Identity, SignInEvent, User, VerificationCode
from app.analytics.models import Event
from app.core.db import transaction
from app.core.models import AuditLog
from app.extensions import db
from app.merchants.models import MerchantMember
from app.notifications.models import Message
from app.orders import reviews
from app.orders.models import CartItem, Order
from tests.factories import PASSWORD, png_bytes
from tests.web.helpers import text

CONFIRM = {"password": PASSWORD, "understood": "y"}


def flashes(client) -> list[str]:
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def fresh(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_the_page_explains_and_the_security_page_links_it(client, make_user, login):
    login(make_user())
    assert 'href="/me/security/delete"' in text(client.get("/me/security"))
    html = text(client.get("/me/security/delete"))
    assert "已注销用户" in html and 'name="password"' in html and 'name="understood"' in html
    assert 'data-confirm="注销后账号无法恢复，确定注销吗？"' in html
    assert client.post("/logout") and client.get("/me/security/delete").status_code == 302  # signed out: to sign in


def test_deleting_anonymises_the_account_and_keeps_the_orders(app, client, make_user, login, buyer_order,
                                                              api_token, run_jobs, outbox):
    user = make_user(phone="13766660001", email="gone@example.com", nickname="要走的人")
    login(user)
    assert client.post("/me/profile", data={"nickname": "要走的人", "avatar": (io.BytesIO(png_bytes()), "a.png")},
                       content_type="multipart/form-data").status_code == 302
    avatar_key = fresh(user.id).avatar_key
    assert avatar_key
    order = buyer_order(user, "received", title="留下的订单")
    with transaction():
        reviews.create(user.id, order.items[0].id, 5, "很好")
    db.session.execute(sa.update(Order).where(Order.id == order.id).values(status="completed"))
    db.session.add(Identity(user_id=user.id, provider="alipay", subject="2088000000009999"))
    db.session.add(Event(type="search", user_id=user.id, query="茶叶"))
    db.session.add(Message(recipient_id=user.id, title="欢迎"))
    db.session.commit()
    with transaction():
        addresses.add(user.id, {"recipient": "王小明", "phone": "13766660001", "province_code": "350000",
                                "city_code": "350100", "district_code": "350102", "detail": "五四路 1 号"})
    client.post("/cart/add", data={"sku_id": order.items[0].sku_id, "quantity": 1})
    headers = api_token(user)
    other_device = login(user, on=app.test_client())
    client.post("/logout")
    client.post("/login", data={"mode": "password", "account": "13766660001", "password": PASSWORD})  # a sign-in row
    assert count(SignInEvent, SignInEvent.user_id == user.id) and count(CartItem, CartItem.user_id == user.id)

    response = client.post("/me/security/delete", data=CONFIRM)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "账号已注销。你的手机号和邮箱可以重新注册。" in flashes(client)

    gone = fresh(user.id)
    assert gone.is_deleted and gone.deleted_at is not None
    assert (gone.phone, gone.email, gone.password_hash, gone.nickname, gone.avatar_key) == (None, None, None, "", None)
    assert gone.display_name == "已注销用户"
    for model, column in ((Identity, Identity.user_id), (Address, Address.user_id), (ApiToken, ApiToken.user_id),
                          (SignInEvent, SignInEvent.user_id), (CartItem, CartItem.user_id),
                          (Message, Message.recipient_id), (Event, Event.user_id)):
        assert count(model, column == user.id) == 0, model.__name__
    assert count(Event, Event.query == "茶叶") == 1  # the event stays, unlinked
    assert count(VerificationCode, VerificationCode.target == "+8613766660001") == 0
    assert not (Path(app.config["UPLOAD_DIR"]) / avatar_key).exists()  # the picture itself is gone
    # every session and token is dead
    assert client.get("/me").status_code == 302 and other_device.get("/me").status_code == 302
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    # the order stays for the shop and the platform, the buyer shown as 已注销用户
    kept = db.session.get(Order, order.id)
    assert kept.buyer_id == user.id and kept.address["recipient"] == "王小明"
    owner_id = db.session.scalar(sa.select(MerchantMember.user_id).where(MerchantMember.merchant_id == kept.merchant_id))
    merchant = login(db.session.get(User, owner_id), on=app.test_client())
    assert "已注销用户" in text(merchant.get(f"/merchant/orders/{order.order_no}"))
    assert "已注销用户" in text(client.get(f"/products/{kept.items[0].product_id}"))  # the review's author
    admin = login(make_user(admin_role="super"), on=app.test_client())
    assert "已注销" in text(admin.get("/admin/users", query_string={"q": f"#{user.id}"}))
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "account.delete"))
    assert audit.actor_id == user.id and audit.target_id == str(user.id)
    assert "13766660001" not in (audit.note or "") and "phone" in audit.note
    # the phone (and email) can register again: a new account
    client.post("/auth/sms-code", data={"phone": "13766660001", "purpose": "register"}, headers={"HX-Request": "true"})
    run_jobs()
    again = client.post("/register", data={"phone": "13766660001", "code": outbox.last_code("13766660001"),
                                           "password": "again1234", "agree_terms": "y"})
    assert again.status_code == 302
    newcomer = db.session.scalar(sa.select(User).where(User.phone == "+8613766660001"))
    assert newcomer.id != user.id and not newcomer.is_deleted


def test_wrong_password_or_unticked_box_changes_nothing(client, make_user, login):
    user = make_user(phone="13766660002")
    login(user)
    wrong = client.post("/me/security/delete", data={"password": "nope12345", "understood": "y"})
    assert wrong.status_code == 200 and "密码不正确" in text(wrong)
    unticked = client.post("/me/security/delete", data={"password": PASSWORD})
    assert unticked.status_code == 200 and "请确认你已了解注销的后果" in text(unticked)
    assert not fresh(user.id).is_deleted and client.get("/me").status_code == 200


def test_another_user_cannot_delete_someone_elses_account(app, client, make_user, login, monkeypatch):
    victim, intruder = make_user(phone="13766660003"), make_user(phone="13766660004", password="other1234")
    login(intruder)
    # the form names no account: the victim's password only fails the intruder's own confirmation
    response = client.post("/me/security/delete", data={**CONFIRM, "user_id": victim.id})
    assert "密码不正确" in text(response)
    assert not fresh(victim.id).is_deleted and not fresh(intruder.id).is_deleted
    anonymous = app.test_client()
    assert anonymous.post("/me/security/delete", data=CONFIRM).status_code == 302
    assert not fresh(victim.id).is_deleted
    # and the request is CSRF-protected like every post
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    victim_client = login(victim, on=app.test_client())
    refused = victim_client.post("/me/security/delete", data=CONFIRM)  # a forged cross-site post has no token
    assert refused.status_code == 400 and not fresh(victim.id).is_deleted


@pytest.mark.parametrize("state", ["pending_payment", "paid", "shipped", "received"])
def test_refused_while_an_order_is_unfinished(client, make_user, login, buyer_order, state):
    user = make_user()
    buyer_order(user, state)
    login(user)
    page = text(client.get("/me/security/delete"))
    assert 'data-blocker="unfinished_orders"' in page and 'name="password"' not in page
    response = client.post("/me/security/delete", data=CONFIRM)
    assert response.status_code == 200 and "你还有 1 个未完成的订单" in text(response)
    assert not fresh(user.id).is_deleted and fresh(user.id).phone


def test_refused_while_owning_a_shop_and_naming_it(client, make_user, make_merchant, login):
    owner = make_user()
    make_merchant(owner=owner, name="老王茶庄")
    login(owner)
    page = text(client.post("/me/security/delete", data=CONFIRM))
    assert "你是店铺「老王茶庄」的店主，请先联系平台关闭店铺后再注销" in page
    assert not fresh(owner.id).is_deleted


def test_refused_for_admins_and_applications_in_review(client, make_user, make_application, login):
    admin = make_user(admin_role="operator")
    login(admin)
    assert "你是平台管理员" in text(client.post("/me/security/delete", data=CONFIRM))
    applicant = make_user()
    make_application(applicant=applicant, status="submitted")
    login(applicant)
    assert "你的开店申请正在审核" in text(client.post("/me/security/delete", data=CONFIRM))
    assert not fresh(admin.id).is_deleted and not fresh(applicant.id).is_deleted


def test_an_account_without_password_confirms_with_an_sms_code(client, make_user, login, run_jobs, outbox):
    user = make_user(phone="13766660006", password=None)
    login(user)
    page = text(client.get("/me/security/delete"))
    assert 'name="code"' in page and 'name="password"' not in page and "137****0006" in page
    assert client.post("/me/security/delete/code").status_code == 302
    run_jobs()
    code = outbox.last_code("13766660006")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert "验证码不正确" in text(client.post("/me/security/delete", data={"code": wrong, "understood": "y"}))
    assert client.post("/me/security/delete", data={"code": code, "understood": "y"}).status_code == 302
    assert fresh(user.id).is_deleted
    # the shared code endpoint never sends this purpose to a number someone types
    response = client.post("/auth/sms-code", data={"phone": "13766660007", "purpose": "close_account"},
                           headers={"HX-Request": "true"})
    assert "用途无效" in text(response)


def test_blockers_are_listed_together(make_user, buyer_order, make_merchant):
    user = make_user(admin_role="finance")
    buyer_order(user, "paid")
    make_merchant(owner=user, name="一家店")
    codes = [b.code for b in deletion.blockers(user)]
    assert codes == ["unfinished_orders", "owns_shop", "admin"]
    assert re.search(r"一家店", deletion.blockers(user)[1].message)
