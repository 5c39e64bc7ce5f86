"""Admin shop management: list, search and filter, detail, warning, suspension,
closure and reopening (audited, notified, in the history), stale states,
validation and who may act."""
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from app.core.clock import SHANGHAI, to_local, utcnow
from app.core.models import AuditLog
from app.extensions import db
from app.merchants import penalties
from app.merchants.models import Merchant, MerchantMember, MerchantPenalty
from app.notifications.models import Message
from tests.web.helpers import toast

HX = {"HX-Request": "true"}
ACTIONS = ("warn", "suspend", "close", "reopen")


def admin_client(app, make_user, login, role="super"):
    admin = make_user(admin_role=role, nickname=f"{role}管理员")
    c = app.test_client()
    login(admin, on=c)
    return c, admin


def fresh(merchant_id: int) -> Merchant:
    db.session.expire_all()
    return db.session.get(Merchant, merchant_id)


def audit_actions(merchant_id: int) -> list[str]:
    return list(db.session.scalars(sa.select(AuditLog.action).where(
        AuditLog.target_type == "Merchant", AuditLog.target_id == str(merchant_id)).order_by(AuditLog.id)))


def messages_to(user_id: int) -> list[Message]:
    return list(db.session.scalars(sa.select(Message).where(Message.recipient_id == user_id).order_by(Message.id)))


def test_search_by_name_owner_phone_and_id(app, make_user, make_merchant, login):
    c, _admin = admin_client(app, make_user, login)
    owner = make_user(phone="13566667777", nickname="老王")
    target = make_merchant(owner=owner, name="老王水果铺")
    make_merchant(name="别家百货")
    for q in ("水果", "1356666", "13566667777", str(target.id)):
        html = c.get("/admin/merchants", query_string={"q": q}).get_data(as_text=True)
        assert "老王水果铺" in html and "别家百货" not in html, q
        assert "老王" in html and "135 6666 7777" in html  # the owner column
    partial = c.get("/admin/merchants?q=水果", headers=HX).get_data(as_text=True)
    assert "<html" not in partial and "老王水果铺" in partial
    none = c.get("/admin/merchants?q=没有这家店").get_data(as_text=True)
    assert "没有找到匹配的店铺" in none


@pytest.mark.parametrize("q", ["%", "_", "百%", "_店"])
def test_search_wildcards_match_themselves_only(app, make_user, make_merchant, login, q):
    """A `%` or `_` typed in the search box is a character, not a LIKE wildcard (it
    used to match every shop)."""
    c, _admin = admin_client(app, make_user, login)
    make_merchant(name="老王水果店")
    make_merchant(name="百分百%店")
    html = c.get("/admin/merchants", query_string={"q": q}).get_data(as_text=True)
    assert "老王水果店" not in html
    assert ("百分百%店" in html) == ("%" in q)


def test_a_closed_shop_is_not_warned(app, make_user, make_merchant, login):
    """Warning a shop another admin closed meanwhile (a stale page) is refused like any
    other stale action; it used to add a warning to a closed shop and notify its owner."""
    c, admin = admin_client(app, make_user, login, role="operator")
    merchant = make_merchant()
    penalties.close(admin, merchant.id, "已被另一位管理员关闭")
    db.session.commit()
    hx = c.post(f"/admin/merchants/{merchant.id}/warn", data={"reason": "晚到的警告"}, headers=HX)
    assert toast(hx)["message"] == "操作未执行：店铺当前为「已关闭」，请按最新状态重新操作"
    assert [p.kind for p in penalties.history(merchant.id)] == ["closure"]
    assert audit_actions(merchant.id) == ["merchant.close"]


def test_status_filter(app, make_user, make_merchant, login):
    c, admin = admin_client(app, make_user, login)
    make_merchant(name="正常营业店")
    paused = make_merchant(name="暂停的店")
    penalties.suspend(admin, paused.id, "虚假发货", None)
    db.session.commit()
    html = c.get("/admin/merchants?status=suspended").get_data(as_text=True)
    assert "暂停的店" in html and "正常营业店" not in html and "直到手动恢复" in html
    html = c.get("/admin/merchants?status=active").get_data(as_text=True)
    assert "正常营业店" in html and "暂停的店" not in html
    assert "没有找到匹配的店铺" in c.get("/admin/merchants?status=closed").get_data(as_text=True)
    # An unknown status is ignored rather than an error.
    html = c.get("/admin/merchants?status=bogus").get_data(as_text=True)
    assert "正常营业店" in html and "暂停的店" in html


def test_empty_list_and_nav(app, make_user, login):
    c, _admin = admin_client(app, make_user, login)
    html = c.get("/admin/merchants").get_data(as_text=True)
    assert "还没有店铺" in html
    assert 'href="/admin/merchants"' in c.get("/admin/").get_data(as_text=True)


def test_list_runs_a_fixed_number_of_queries(app, make_user, make_merchant, login, count_queries):
    c, _admin = admin_client(app, make_user, login)
    for _ in range(2):
        make_merchant()
    with count_queries() as few:
        assert c.get("/admin/merchants").status_code == 200
    for _ in range(15):
        make_merchant()
    with count_queries() as many:
        assert c.get("/admin/merchants").status_code == 200
    assert len(many) == len(few)


def test_detail_shows_the_facts(app, make_user, make_merchant, login):
    c, _admin = admin_client(app, make_user, login)
    owner = make_user(phone="13511112222", nickname="店主小李")
    merchant = make_merchant(owner=owner, name="小李茶叶", shipping_flat_fen=800, free_shipping_threshold_fen=9900,
                             main_categories=["食品生鲜"])
    db.session.add(MerchantMember(merchant_id=merchant.id, user_id=make_user().id, role="staff"))
    db.session.commit()
    html = c.get(f"/admin/merchants/{merchant.id}").get_data(as_text=True)
    for text in ("小李茶叶", "店主小李", "135 1111 2222", "1 人", "测试公司", "91350100M000100Y43", "139 0000 0000",
                 "运费 ¥8.00，满 ¥99.00 包邮", "食品生鲜", "营业中", "暂无处罚记录", "发出警告", "关闭店铺"):
        assert text in html, text


def test_unknown_merchant_is_404(app, make_user, login):
    c, _admin = admin_client(app, make_user, login)
    assert c.get("/admin/merchants/999999").status_code == 404
    for action in ACTIONS:
        assert c.post(f"/admin/merchants/999999/{action}", data={"reason": "不存在的店"}).status_code == 404


def test_warning_is_audited_notified_and_in_the_history(app, make_user, make_merchant, login):
    c, admin = admin_client(app, make_user, login, role="operator")
    merchant = make_merchant(name="被警告的店")
    owner_id = merchant.members[0].user_id
    resp = c.post(f"/admin/merchants/{merchant.id}/warn", data={"reason": "商品描述与实物不符"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/admin/merchants/{merchant.id}")
    assert fresh(merchant.id).status == "active"
    assert audit_actions(merchant.id) == ["merchant.warn"]
    row = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "merchant.warn"))
    assert row.actor_id == admin.id and row.note == "商品描述与实物不符"
    [message] = messages_to(owner_id)
    assert message.title == "店铺收到平台警告" and message.body == "商品描述与实物不符"
    html = c.get(f"/admin/merchants/{merchant.id}").get_data(as_text=True)
    assert "已警告「被警告的店」" in html  # the flash, shown as a toast
    assert "商品描述与实物不符" in html and "operator管理员" in html and "暂无处罚记录" not in html


def test_suspension_until_a_date_is_lifted_by_the_sweep(app, client, make_user, make_merchant, login):
    c, _admin = admin_client(app, make_user, login, role="operator")
    merchant = make_merchant(name="限期整改店")
    owner_id = merchant.members[0].user_id
    day = to_local(utcnow()).date() + timedelta(days=3)
    resp = c.post(f"/admin/merchants/{merchant.id}/suspend", data={"reason": "多次虚假发货", "until": day.isoformat()})
    assert resp.status_code == 302
    shop = fresh(merchant.id)
    assert shop.status == "suspended" and shop.status_reason == "多次虚假发货"
    assert shop.suspended_until == datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI)  # end of that day, Shanghai
    penalty = db.session.scalar(sa.select(MerchantPenalty).where(MerchantPenalty.merchant_id == merchant.id))
    assert penalty.kind == "suspension" and penalty.ends_at == shop.suspended_until
    assert audit_actions(merchant.id) == ["merchant.suspend"]
    assert [m.title for m in messages_to(owner_id)] == ["店铺已被暂停营业"]
    page = client.get(f"/shops/{merchant.id}")
    assert page.status_code == 200 and "店铺暂停营业" in page.get_data(as_text=True)
    assert day.isoformat() in page.get_data(as_text=True)
    detail = c.get(f"/admin/merchants/{merchant.id}").get_data(as_text=True)
    assert "恢复营业" in detail and day.isoformat() in detail

    assert penalties.lift_expired_suspensions() == 0  # not yet due
    shop.suspended_until = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert penalties.lift_expired_suspensions() == 1
    assert penalties.lift_expired_suspensions() == 0  # safe to re-run
    shop = fresh(merchant.id)
    assert shop.status == "active" and shop.suspended_until is None
    assert [p.kind for p in penalties.history(merchant.id)] == ["reopening", "suspension"]
    assert messages_to(owner_id)[-1].title == "店铺已恢复营业"
    assert "限期整改店" in client.get(f"/shops/{merchant.id}").get_data(as_text=True)
    assert "店铺暂停营业" not in client.get(f"/shops/{merchant.id}").get_data(as_text=True)


def test_suspension_until_lifted_then_reopened(app, client, make_user, make_merchant, login):
    c, _admin = admin_client(app, make_user, login, role="operator")
    merchant = make_merchant()
    assert c.post(f"/admin/merchants/{merchant.id}/suspend", data={"reason": "配合调查"}).status_code == 302
    shop = fresh(merchant.id)
    assert shop.status == "suspended" and shop.suspended_until is None
    assert penalties.lift_expired_suspensions() == 0  # "until lifted" stays
    assert "恢复营业的时间待定" in client.get(f"/shops/{merchant.id}").get_data(as_text=True)
    assert c.post(f"/admin/merchants/{merchant.id}/reopen", data={"reason": "调查结束"}).status_code == 302
    assert fresh(merchant.id).status == "active"
    assert audit_actions(merchant.id) == ["merchant.suspend", "merchant.reopen"]


def test_closure_then_reopening(app, client, make_user, make_merchant, login):
    c, admin = admin_client(app, make_user, login, role="operator")
    merchant = make_merchant(name="要关的店")
    owner_id = merchant.members[0].user_id
    detail = c.get(f"/admin/merchants/{merchant.id}").get_data(as_text=True)
    assert "关闭是永久处理" in detail  # the confirm dialog names what will happen
    assert c.post(f"/admin/merchants/{merchant.id}/close", data={"reason": "销售仿冒品"}).status_code == 302
    shop = fresh(merchant.id)
    assert shop.status == "closed" and shop.status_reason == "销售仿冒品"
    page = client.get(f"/shops/{merchant.id}")
    assert page.status_code == 200 and "店铺已关闭" in page.get_data(as_text=True)
    assert c.post(f"/admin/merchants/{merchant.id}/reopen", data={"reason": "申诉成功"}).status_code == 302
    assert fresh(merchant.id).status == "active"
    assert audit_actions(merchant.id) == ["merchant.close", "merchant.reopen"]
    assert [m.title for m in messages_to(owner_id)] == ["店铺已被关闭", "店铺已恢复营业"]
    html = c.get(f"/admin/merchants/{merchant.id}").get_data(as_text=True)
    assert html.index("申诉成功") < html.index("销售仿冒品")  # newest first


@pytest.mark.parametrize("data, message", [
    ({"reason": ""}, "请填写原因"),
    ({"reason": "差"}, "2 到 200 个字"),
    ({"reason": "x" * 201}, "2 到 200 个字"),
    ({"reason": "过去的日期", "until": "2020-01-01"}, "恢复时间必须晚于现在"),
    ({"reason": "日期不对", "until": "下周"}, "不是有效的日期值"),
])
def test_bad_input_changes_nothing(app, make_user, make_merchant, login, data, message):
    c, _admin = admin_client(app, make_user, login, role="operator")
    merchant = make_merchant()
    resp = c.post(f"/admin/merchants/{merchant.id}/suspend", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in html and "is-invalid" in html
    if data["reason"] and len(data["reason"]) <= 200:
        assert data["reason"] in html  # the form keeps what was typed
    assert fresh(merchant.id).status == "active"
    assert audit_actions(merchant.id) == [] and penalties.history(merchant.id) == []
    assert messages_to(merchant.members[0].user_id) == []
    hx = c.post(f"/admin/merchants/{merchant.id}/warn", data={"reason": ""}, headers=HX)
    assert hx.status_code == 200 and toast(hx)["level"] == "danger" and "请填写原因" in toast(hx)["message"]
    assert 'id="merchant-status"' in hx.get_data(as_text=True) and "is-invalid" in hx.get_data(as_text=True)
    assert audit_actions(merchant.id) == []


def test_acting_on_a_stale_status_is_a_clear_error(app, make_user, make_merchant, login):
    c, admin = admin_client(app, make_user, login, role="operator")
    merchant = make_merchant()
    resp = c.post(f"/admin/merchants/{merchant.id}/reopen", data={"reason": "其实店铺在营业"})
    assert resp.status_code == 302
    html = c.get(f"/admin/merchants/{merchant.id}").get_data(as_text=True)
    assert "操作未执行：店铺当前为「营业中」" in html
    assert penalties.history(merchant.id) == [] and audit_actions(merchant.id) == []
    # Another admin closed it meanwhile; this one's suspension loses and is told why.
    penalties.close(admin, merchant.id, "已被另一位管理员关闭")
    db.session.commit()
    hx = c.post(f"/admin/merchants/{merchant.id}/suspend", data={"reason": "晚了一步"}, headers=HX)
    assert hx.status_code == 200 and toast(hx)["level"] == "danger"
    assert toast(hx)["message"] == "操作未执行：店铺当前为「已关闭」，请按最新状态重新操作"
    body = hx.get_data(as_text=True)
    assert "已关闭" in body and "已被另一位管理员关闭" in body  # the panel shows the real state
    assert fresh(merchant.id).status == "closed"
    assert [p.kind for p in penalties.history(merchant.id)] == ["closure"]


def test_htmx_actions_swap_the_panel_and_history_with_a_toast(app, make_user, make_merchant, login):
    c, _admin = admin_client(app, make_user, login, role="operator")
    merchant = make_merchant(name="局部刷新店")
    steps = [("warn", {"reason": "请尽快整改"}, "已警告「局部刷新店」，店主已收到通知", "active"),
             ("suspend", {"reason": "整改期间暂停"}, "「局部刷新店」已暂停营业", "suspended"),
             ("close", {"reason": "整改不到位"}, "「局部刷新店」已关闭", "closed"),
             ("reopen", {"reason": "复核通过"}, "「局部刷新店」已恢复营业", "active")]
    for action, data, message, status in steps:
        resp = c.post(f"/admin/merchants/{merchant.id}/{action}", data=data, headers=HX)
        body = resp.get_data(as_text=True)
        assert resp.status_code == 200 and toast(resp) == {"message": message, "level": "success"}, action
        assert "<html" not in body and 'id="merchant-status"' in body
        assert 'id="merchant-history" class="card border-0 shadow-sm" hx-swap-oob="true"' in body
        assert data["reason"] in body and fresh(merchant.id).status == status
    assert audit_actions(merchant.id) == ["merchant.warn", "merchant.suspend", "merchant.close", "merchant.reopen"]


def test_finance_may_look_but_not_act_and_shoppers_are_refused(app, client, make_user, make_merchant, login):
    merchant = make_merchant()
    finance, _ = admin_client(app, make_user, login, role="finance")
    assert finance.get("/admin/merchants").status_code == 200
    detail = finance.get(f"/admin/merchants/{merchant.id}").get_data(as_text=True)
    assert "营业中" in detail and "发出警告" not in detail and "/suspend" not in detail
    login(make_user())
    assert client.get("/admin/merchants").status_code == 403
    assert client.get(f"/admin/merchants/{merchant.id}").status_code == 403
    anonymous = app.test_client()
    assert anonymous.get("/admin/merchants").status_code == 302
    for action in ACTIONS:
        data = {"reason": "越权操作试试"}
        assert finance.post(f"/admin/merchants/{merchant.id}/{action}", data=data).status_code == 403, action
        assert client.post(f"/admin/merchants/{merchant.id}/{action}", data=data).status_code == 403, action
        assert anonymous.post(f"/admin/merchants/{merchant.id}/{action}", data=data).status_code == 302, action
    assert fresh(merchant.id).status == "active"
    assert audit_actions(merchant.id) == [] and penalties.history(merchant.id) == []
