"""Admin 售后纠纷 and 全部售后 over HTTP: who may see and rule (super admins and
operators rule, finance reads, shoppers, shops and strangers are refused), the queue
and the list with fixed query counts, the request's page, rulings each way through to
the money (and audited), a second ruling and bad input refused with nothing changed,
the platform's messages in the thread, and the request's photos."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.aftersales import disputes as dispute_services
from app.aftersales.models import AfterSale, Dispute, DisputeMessage
from app.core.db import transaction
from app.core.models import AuditLog
from app.extensions import db
from tests.aftersales.conftest import apply, fresh, owner_of
from tests.aftersales.dispute_steps import disputed
from tests.factories import png_bytes
from tests.web.helpers import text, toast

HX = {"HX-Request": "true"}


def admin_client(app, make_user, login, role="operator"):
    admin = make_user(admin_role=role, nickname=f"{role}管理员")
    return login(admin, on=app.test_client()), admin


def shop_owner(order) -> User:
    return db.session.get(User, owner_of(order).user_id)


def rule_form(ruling="refund", note="照片可见明显裂痕，支持买家"):
    return {"ruling": ruling, "note": note}


def audit_rows():
    return db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "aftersale.rule")).all()


# --- who may do what ---------------------------------------------------------------------------------

def test_every_page_by_role(app, client, make_user, login, bought):
    order, aftersale = disputed(bought)
    photo = aftersale.images[0]["thumb_key"].rsplit("/", 1)[-1]
    pages = ["/admin/disputes", "/admin/disputes?tab=done", "/admin/aftersales",
             f"/admin/disputes/{aftersale.aftersale_no}", f"/admin/disputes/{aftersale.aftersale_no}/images/{photo}"]
    for role in ("super", "operator", "finance"):
        c, _ = admin_client(app, make_user, login, role)
        for path in pages:
            assert c.get(path).status_code == 200, (role, path)
    for path in pages:
        assert client.get(path).status_code == 302  # anonymous: to the sign-in page
    for someone in (make_user(), shop_owner(order), db.session.get(User, order.buyer_id)):
        c = login(someone, on=app.test_client())
        for path in pages:
            assert c.get(path).status_code == 403, path
    c, _ = admin_client(app, make_user, login)
    assert c.get("/admin/disputes/S000000000000000000").status_code == 404


def test_only_super_admins_and_operators_rule_or_write(app, client, make_user, login, bought):
    order, aftersale = disputed(bought)
    no = aftersale.aftersale_no
    refused = [client]  # anonymous
    refused += [login(u, on=app.test_client()) for u in (make_user(), shop_owner(order),
                                                         db.session.get(User, order.buyer_id))]
    refused.append(admin_client(app, make_user, login, "finance")[0])
    for c in refused:
        assert c.post(f"/admin/disputes/{no}/rule", data=rule_form()).status_code in (302, 403)
        assert c.post(f"/admin/disputes/{no}/messages", data={"body": "请补充照片"}).status_code in (302, 403)
        if c is not client:
            assert c.post(f"/admin/disputes/{no}/rule", data=rule_form()).status_code == 403
    assert fresh(aftersale).status == "disputed" and fresh(aftersale).dispute.ruled_at is None
    assert db.session.scalar(sa.select(sa.func.count(DisputeMessage.id))) == 0 and audit_rows() == []
    for role in ("super", "operator"):
        c, _ = admin_client(app, make_user, login, role)
        html = text(c.get(f"/admin/disputes/{no}"))
        assert 'name="ruling"' in html and 'name="body"' in html, role
    c, _ = admin_client(app, make_user, login, "finance")
    html = text(c.get(f"/admin/disputes/{no}"))
    assert 'name="ruling"' not in html and 'name="body"' not in html and "裁定需要运营或超级管理员角色" in html


def test_sidebar_shows_the_open_dispute_count_to_admins_who_see_after_sales(app, make_user, login, bought):
    disputed(bought)
    disputed(bought)
    c, _ = admin_client(app, make_user, login, "finance")
    html = text(c.get("/admin/"))
    assert "售后纠纷" in html and 'href="/admin/disputes"' in html
    assert ('<span>售后纠纷</span><span class="badge rounded-pill text-bg-danger ms-auto" id="nav-badge-admin-disputes">2'
            '</span>') in html


# --- the queue and the list ---------------------------------------------------------------------------

def test_dispute_queue_tabs(app, make_user, login, bought, make_merchant):
    order, aftersale = disputed(bought)
    c, _ = admin_client(app, make_user, login)
    html = text(c.get("/admin/disputes"))
    assert aftersale.aftersale_no in html and order.merchant.name in html and "退货退款" in html
    assert "¥99.00" in html and "分钟" in html  # how long it has waited
    buyer = db.session.get(User, order.buyer_id)
    assert buyer.phone[3:6] + "****" in html and buyer.phone[3:] not in html  # masked
    assert '待处理 <span class="tab-count">1</span>' in html and '已处理 <span class="tab-count">0</span>' in html
    done = text(c.get("/admin/disputes?tab=done"))
    assert aftersale.aftersale_no not in done and "还没有处理过的纠纷" in done
    partial = text(c.get("/admin/disputes?tab=open", headers={**HX, "HX-Target": "disputes-table"}))
    assert "<html" not in partial and aftersale.aftersale_no in partial
    c.post(f"/admin/disputes/{aftersale.aftersale_no}/rule", data=rule_form("close", "证据不足"))
    assert "没有等待处理的纠纷" in text(c.get("/admin/disputes"))
    done = text(c.get("/admin/disputes?tab=done"))
    assert aftersale.aftersale_no in done and "支持商家：关闭售后" in done and "operator管理员" in done
    assert "没有等待处理的纠纷" in text(c.get("/admin/disputes?tab=nonsense&page=abc&per_page=99999"))


def test_every_request_list_filters_by_status_shop_and_number(app, make_user, login, bought):
    order, disputed_one = disputed(bought)
    other = bought(quantity=1)
    pending = apply(other, kind="refund_only")
    c, _ = admin_client(app, make_user, login, "finance")
    html = text(c.get("/admin/aftersales"))
    assert disputed_one.aftersale_no in html and pending.aftersale_no in html
    assert f'href="/admin/disputes/{pending.aftersale_no}"' in html
    hx = {**HX, "HX-Target": "aftersales-table"}
    for query, hit, miss in (({"status": "disputed"}, disputed_one, pending),
                             ({"merchant_id": other.merchant_id}, pending, disputed_one),
                             ({"q": disputed_one.aftersale_no}, disputed_one, pending),
                             ({"q": other.order_no}, pending, disputed_one)):
        html = text(c.get("/admin/aftersales", query_string=query, headers=hx))
        assert hit.aftersale_no in html and miss.aftersale_no not in html and "<html" not in html, query
    assert "没有符合条件的售后申请" in text(c.get("/admin/aftersales?q=S999"))
    html = text(c.get("/admin/aftersales?status=bogus&merchant_id=99999999999"))
    assert disputed_one.aftersale_no in html and pending.aftersale_no in html
    # a request that was never disputed: its page, read-only, without a ruling form
    page = text(c.get(f"/admin/disputes/{pending.aftersale_no}"))
    assert "平台裁定" not in page and "协商记录" not in page and "全部售后" in page


@pytest.mark.parametrize("path", ["/admin/disputes", "/admin/disputes?tab=done", "/admin/aftersales"])
def test_lists_run_a_fixed_number_of_queries(app, make_user, login, bought, count_queries, path):
    c, admin = admin_client(app, make_user, login)

    def one_more():
        order, aftersale = disputed(bought)
        if "done" in path:
            c.post(f"/admin/disputes/{aftersale.aftersale_no}/rule", data=rule_form("close", "证据不足"))

    one_more()
    c.get(path)
    with count_queries() as one:
        assert c.get(path).status_code == 200
    for _ in range(3):
        one_more()
    with count_queries() as four:
        html = text(c.get(path))
    assert html.count('href="/admin/disputes/S') >= 4
    assert len(four) == len(one)


# --- the request's page ------------------------------------------------------------------------------

def test_detail_shows_both_sides_the_request_the_order_and_the_timeline(app, make_user, login, bought):
    order, aftersale = disputed(bought, quantity=2, asked=1)
    with transaction():
        dispute_services.state(owner_of(order), aftersale.aftersale_no, "出库视频显示完好", [png_bytes(color=(9, 9, 9))])
    c, _ = admin_client(app, make_user, login, "finance")
    html = text(c.get(f"/admin/disputes/{aftersale.aftersale_no}"))
    assert "商家拒绝退货，照片能看到裂痕" in html and "出库视频显示完好" in html  # both statements
    assert "收到时外壳开裂" in html and "质量问题" in html and "退货退款" in html  # the request
    assert f'href="/admin/orders/{order.order_no}"' in html  # the order
    assert "平台介入中" in html and "已拒绝" in html and "待处理" in html  # the timeline
    assert "商品出库时完好，不同意退货" in html  # the shop's refusal
    images = fresh(aftersale).images + fresh(aftersale).dispute.buyer_evidence + fresh(aftersale).dispute.merchant_evidence
    for image in images:
        assert f"/admin/disputes/{aftersale.aftersale_no}/images/{image['thumb_key'].rsplit('/', 1)[-1]}" in html
        resp = c.get(f"/admin/disputes/{aftersale.aftersale_no}/images/{image['key'].rsplit('/', 1)[-1]}")
        assert resp.status_code == 200 and resp.mimetype.startswith("image/")
        resp.close()
    assert c.get(f"/admin/disputes/{aftersale.aftersale_no}/images/..%2F..%2Fsecret.png").status_code == 404
    assert c.get(f"/admin/disputes/{aftersale.aftersale_no}/images/nope.png").status_code == 404
    # another request's photo is not served under this number
    _other_order, other = disputed(bought)
    name = other.images[0]["key"].rsplit("/", 1)[-1]
    assert c.get(f"/admin/disputes/{aftersale.aftersale_no}/images/{name}").status_code == 404


# --- rulings -----------------------------------------------------------------------------------------

def test_ruling_refund_through_http_then_the_money_goes_back(app, make_user, login, bought, run_jobs):
    order, aftersale = disputed(bought)
    c, admin = admin_client(app, make_user, login, "super")
    resp = c.post(f"/admin/disputes/{aftersale.aftersale_no}/rule", data=rule_form("refund"))
    assert resp.status_code == 302 and resp.headers["Location"].endswith("#ruling-panel")
    ruled = fresh(aftersale)
    assert ruled.status == "refunding" and ruled.dispute.ruled_by_id == admin.id
    [audit] = audit_rows()
    assert audit.actor_id == admin.id and audit.changes == {"ruling": [None, "refund"]}
    assert audit.note == "照片可见明显裂痕，支持买家"
    run_jobs()
    assert fresh(aftersale).status == "refunded"
    db.session.expire_all()
    assert db.session.get(type(order), order.id).refunded_fen == 9900
    html = text(c.get(f"/admin/disputes/{aftersale.aftersale_no}"))
    assert "支持买家：直接退款" in html and "super管理员" in html and 'name="ruling"' not in html
    assert "已退款" in html and f"RA{aftersale.aftersale_no}" in html  # the refund it made


def test_ruling_return_refund_sends_the_buyer_to_the_shops_default_address(app, make_user, login, bought):
    order, aftersale = disputed(bought, kind="exchange")
    c, _ = admin_client(app, make_user, login)
    resp = c.post(f"/admin/disputes/{aftersale.aftersale_no}/rule", data=rule_form("return_refund"), headers=HX)
    assert resp.status_code == 200 and toast(resp) == {"message": "已裁定：支持买家：退货退款", "level": "success"}
    html = text(resp)
    assert html.lstrip().startswith('<div id="ruling-panel"')  # the swapped panel, then the rest out of band
    assert 'id="aftersale-status" hx-swap-oob="true"' in html and 'id="aftersale-timeline" hx-swap-oob="true"' in html
    assert "售后部" in html  # the return address, out of band in the request
    ruled = fresh(aftersale)
    assert ruled.status == "awaiting_return" and ruled.kind == "return_refund"
    assert ruled.return_address["recipient"] == "售后部" and len(audit_rows()) == 1


def test_ruling_close_for_the_shop(app, make_user, login, bought):
    order, aftersale = disputed(bought)
    c, _ = admin_client(app, make_user, login)
    assert c.post(f"/admin/disputes/{aftersale.aftersale_no}/rule", data=rule_form("close", "证据不足")).status_code == 302
    closed = fresh(aftersale)
    assert closed.status == "closed" and closed.dispute.ruling == "close"
    db.session.expire_all()
    assert db.session.get(type(order), order.id).refunded_fen == 0
    assert "支持商家：关闭售后" in text(c.get(f"/admin/disputes/{aftersale.aftersale_no}"))


def test_a_second_ruling_is_refused_and_changes_nothing(app, make_user, login, bought):
    order, aftersale = disputed(bought)
    c, _ = admin_client(app, make_user, login)
    other, _ = admin_client(app, make_user, login, "super")
    c.post(f"/admin/disputes/{aftersale.aftersale_no}/rule", data=rule_form("close", "证据不足"))
    resp = other.post(f"/admin/disputes/{aftersale.aftersale_no}/rule", data=rule_form("refund"), headers=HX)
    assert toast(resp) == {"message": "该纠纷已经裁定，不能再次裁定", "level": "warning"}
    resp = other.post(f"/admin/disputes/{aftersale.aftersale_no}/rule", data=rule_form("refund"))
    assert resp.status_code == 302
    assert "该纠纷已经裁定" in text(other.get(resp.headers["Location"]))
    ruled = fresh(aftersale)
    assert ruled.status == "closed" and ruled.dispute.ruling == "close" and len(audit_rows()) == 1


@pytest.mark.parametrize("form, field, message", [
    ({"ruling": "refund", "note": "  "}, "note", "请填写处理说明"),
    ({"ruling": "refund", "note": "长" * 501}, "note", "请填写处理说明"),
    ({"ruling": "half", "note": "各退一半"}, "ruling", "请选择处理结果"),
    ({"note": "没选结果"}, "ruling", "请选择处理结果"),
])
def test_bad_ruling_input_says_why_and_changes_nothing(app, make_user, login, bought, form, field, message):
    order, aftersale = disputed(bought)
    c, _ = admin_client(app, make_user, login)
    resp = c.post(f"/admin/disputes/{aftersale.aftersale_no}/rule", data=form)
    html = text(resp)
    assert resp.status_code == 422 and message in html and 'name="ruling"' in html
    assert 'class="form-check-input is-invalid"' in html if field == "ruling" else 'is-invalid" id="ruling-note"' in html
    if form.get("note", "").strip() and len(form["note"]) <= 500:
        assert form["note"] in html  # what was typed is kept
    resp = c.post(f"/admin/disputes/{aftersale.aftersale_no}/rule", data=form, headers=HX)
    assert toast(resp)["level"] == "danger" and "<html" not in text(resp) and 'id="ruling-panel"' in text(resp)
    unchanged = fresh(aftersale)
    assert unchanged.status == "disputed" and unchanged.dispute.ruled_at is None and audit_rows() == []


# --- the thread ----------------------------------------------------------------------------------------

def test_the_platform_writes_in_the_thread(app, make_user, login, bought):
    order, aftersale = disputed(bought)
    c, admin = admin_client(app, make_user, login)
    no = aftersale.aftersale_no
    resp = c.post(f"/admin/disputes/{no}/messages", data={"body": "请商家提供出库视频"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("#dispute-thread")
    resp = c.post(f"/admin/disputes/{no}/messages", headers=HX,
                  data={"body": "买家请补充开箱照片", "images": [(io.BytesIO(png_bytes()), "a.png")]},
                  content_type="multipart/form-data")
    assert toast(resp)["level"] == "success"
    html = text(resp)
    assert html.lstrip().startswith('<section id="dispute-thread"') and "买家请补充开箱照片" in html
    messages = db.session.scalars(sa.select(DisputeMessage).order_by(DisputeMessage.id)).all()
    assert [(m.side, m.author_id, m.body) for m in messages] == [
        ("platform", admin.id, "请商家提供出库视频"), ("platform", admin.id, "买家请补充开箱照片")]
    assert len(messages[1].images) == 1
    page = text(c.get(f"/admin/disputes/{no}"))
    assert page.count("dispute-message-platform") == 2 and "请商家提供出库视频" in page


def test_bad_messages_say_why_and_nothing_is_written(app, make_user, login, bought):
    order, aftersale = disputed(bought)
    c, _ = admin_client(app, make_user, login)
    no = aftersale.aftersale_no
    resp = c.post(f"/admin/disputes/{no}/messages", data={"body": "   "})
    assert resp.status_code == 422 and "请输入留言" in text(resp)
    resp = c.post(f"/admin/disputes/{no}/messages", headers=HX, data={"body": "太长" * 300})
    assert toast(resp)["level"] == "danger" and "太长太长" in text(resp)  # kept for editing
    resp = c.post(f"/admin/disputes/{no}/messages", headers=HX, content_type="multipart/form-data",
                  data={"body": "看图", "images": [(io.BytesIO(b"not an image"), "x.png")]})
    assert toast(resp)["level"] == "danger" and 'name="images"' in text(resp) and "看图" in text(resp)
    c.post(f"/admin/disputes/{no}/rule", data=rule_form("close", "证据不足"))
    resp = c.post(f"/admin/disputes/{no}/messages", headers=HX, data={"body": "裁定后再留言"})
    assert toast(resp)["level"] == "warning"
    assert db.session.scalar(sa.select(sa.func.count(DisputeMessage.id))) == 0
    # a request that was never disputed has no thread to write in
    plain = apply(bought(quantity=1), kind="refund_only")
    assert c.post(f"/admin/disputes/{plain.aftersale_no}/messages", data={"body": "你好"}).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Dispute.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(AfterSale.id))) == 2
