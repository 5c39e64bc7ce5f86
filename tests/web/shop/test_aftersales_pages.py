"""我的 → 售后 in the shop: the order page's 申请售后 links, badges and 取消订单并退款,
the apply form (kinds allowed now, quantity, reasons, photos, the HTMX estimate),
the list by tab, a request's page with every buyer action, and every route refused to
another shopper (404) and to anonymous visitors (sign-in), bad input changing nothing."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.aftersales import applications, services
from app.aftersales.models import AfterSale, AfterSaleEvent, Dispute, DisputeMessage
from app.catalog.models import Sku
from app.core.clock import to_local
from app.core.db import transaction
from app.extensions import db
from app.orders.models import Order, OrderItem
from tests.aftersales.conftest import default_address_id, owner_of
from tests.factories import png_bytes
from tests.web.helpers import text, toast

HX = {"HX-Request": "true"}


def requests_of(order) -> list[AfterSale]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AfterSale).where(AfterSale.order_id == order.id).order_by(AfterSale.id)))


def status_of(aftersale) -> str:
    db.session.expire_all()
    return db.session.scalar(sa.select(AfterSale.status).where(AfterSale.id == aftersale.id))


def apply(order, kind="return_refund", quantity=1, reason="quality", **fields) -> AfterSale:
    with transaction():
        made = applications.apply(order.buyer_id, order.order_no, applications.Application(
            lines=[(order.items[0].id, quantity)], kind=kind, reason=reason, **fields))
    db.session.expire_all()
    return services.reload(made.id)


def form(item_id, quantity=1, kind="return_refund", reason="quality", images=(), **extra) -> dict:
    data = {"item": str(item_id), "quantity": str(quantity), "kind": kind, "reason": reason, **extra}
    if images:
        data["images"] = [(io.BytesIO(data_), f"p{i}.png") for i, data_ in enumerate(images)]
    return data


def approve(aftersale) -> None:
    with transaction():
        services.approve(owner_of(aftersale.order), aftersale.aftersale_no, default_address_id(aftersale.order))


def reject(aftersale) -> None:
    with transaction():
        services.reject(owner_of(aftersale.order), aftersale.aftersale_no, "商品没有质量问题")


# --- the order page ---------------------------------------------------------------------------------------

def test_order_page_offers_aftersales_per_item_and_cancel_and_refund_while_unshipped(client, make_user, login, sold):
    buyer = make_user()
    paid = sold(buyer, "paid")
    login(buyer)
    html = text(client.get(f"/orders/{paid.order_no}"))
    assert f"/orders/{paid.order_no}/aftersale?item={paid.items[0].id}" in html
    assert "取消订单并退款" in html and f"/orders/{paid.order_no}/cancel-refund" in html
    assert "¥198.00 将原路退回" in html  # the whole order, shipping included (none here)

    received = sold(buyer, "received")
    html = text(client.get(f"/orders/{received.order_no}"))
    assert f"item={received.items[0].id}" in html and "取消订单并退款" not in html

    aftersale = apply(received, kind="refund_only", quantity=1)
    html = text(client.get(f"/orders/{received.order_no}"))
    assert f"/aftersales/{aftersale.aftersale_no}" in html and "待商家处理" in html  # the open request's badge
    assert f"item={received.items[0].id}" not in html  # one open request per item
    assert "售后记录" in html

    with transaction():
        services.refund(owner_of(received), aftersale.aftersale_no)
    html = text(client.get(f"/orders/{received.order_no}"))
    assert "已退 1 件" in html and "退款中" in html


def test_cancel_and_refund_of_a_paid_order(client, make_user, login, sold, run_jobs):
    buyer = make_user()
    order = sold(buyer, "paid", quantity=2, stocks=(10,), shipping_fen=800)
    sku_id = order.items[0].sku_id
    login(buyer)
    response = client.post(f"/orders/{order.order_no}/cancel-refund", data={"reason": "no_longer_wanted"})
    [aftersale] = requests_of(order)
    assert response.status_code == 302 and response.headers["Location"] == f"/aftersales/{aftersale.aftersale_no}"
    assert aftersale.kind == "refund_only" and aftersale.refund_fen == 2 * 9900 + 800
    assert db.session.get(Sku, sku_id).stock == 10
    run_jobs()
    assert status_of(aftersale) == "refunded"
    html = text(client.get(f"/aftersales/{aftersale.aftersale_no}"))
    assert "已退款" in html and "退款已原路退回" in html


def test_cancel_and_refund_needs_a_reason_and_an_unshipped_order(client, make_user, login, sold):
    buyer = make_user()
    order = sold(buyer, "paid")
    login(buyer)
    response = client.post(f"/orders/{order.order_no}/cancel-refund", data={"reason": "other"})
    assert response.status_code == 302 and response.headers["Location"] == f"/orders/{order.order_no}"
    assert "请填写具体原因" in text(client.get(f"/orders/{order.order_no}"))
    response = client.post(f"/orders/{order.order_no}/cancel-refund", data={})
    assert "请选择售后原因" in text(client.get(f"/orders/{order.order_no}"))
    assert requests_of(order) == []
    shipped = sold(buyer, "shipped")
    client.post(f"/orders/{shipped.order_no}/cancel-refund", data={"reason": "quality"})
    assert "该订单当前不能取消并退款" in text(client.get(f"/orders/{shipped.order_no}"))
    assert requests_of(shipped) == []


# --- applying ---------------------------------------------------------------------------------------------

def test_apply_page_offers_only_the_kinds_allowed_now(client, make_user, login, sold):
    buyer = make_user()
    paid, received = sold(buyer, "paid"), sold(buyer, "received")
    login(buyer)
    html = text(client.get(f"/orders/{paid.order_no}/aftersale?item={paid.items[0].id}"))
    assert 'value="refund_only"' in html and 'value="return_refund"' not in html and 'value="exchange"' not in html
    assert "商家尚未发货，只能申请仅退款" in html
    html = text(client.get(f"/orders/{received.order_no}/aftersale?item={received.items[0].id}"))
    for kind in ("refund_only", "return_refund", "exchange"):
        assert f'value="{kind}"' in html
    for reason in ("质量问题", "与描述不符", "尺码/颜色不合适", "发错货", "不想要了", "其他"):
        assert reason in html
    assert 'max="2"' in html and "预计退款" in html and "198" in html  # both units by default


def test_apply_with_photos_and_see_the_request(client, make_user, login, sold):
    buyer = make_user()
    order = sold(buyer, "received")
    login(buyer)
    response = client.post(f"/orders/{order.order_no}/aftersale?item={order.items[0].id}",
                           data=form(order.items[0].id, 1, description="杯子有裂纹", images=[png_bytes(), png_bytes()]),
                           content_type="multipart/form-data")
    [aftersale] = requests_of(order)
    assert response.status_code == 302 and response.headers["Location"] == f"/aftersales/{aftersale.aftersale_no}"
    assert aftersale.status == "pending" and aftersale.refund_fen == 9900 and len(aftersale.images) == 2
    html = text(client.get(response.headers["Location"]))
    assert "售后申请已提交" in html and "杯子有裂纹" in html and "质量问题" in html and "退货退款" in html
    due = to_local(aftersale.due_at).strftime("%m-%d %H:%M")
    assert f"商家将在 {due} 前处理，逾期自动同意" in html
    thumbs = re.findall(rf'/aftersales/{aftersale.aftersale_no}/images/[0-9a-f]+\.[a-z]+', html)
    assert len(thumbs) == 4  # two photos, each a thumbnail linking to the full image
    image = client.get(thumbs[0])
    assert image.status_code == 200 and image.mimetype.startswith("image/")
    assert client.get(f"/aftersales/{aftersale.aftersale_no}/images/other.png").status_code == 404
    assert "撤销申请" in html and "修改后重新申请" not in html  # buttons from the policy


def test_a_refund_only_before_shipping_is_refunded_at_once(client, make_user, login, sold):
    buyer = make_user()
    order = sold(buyer, "paid", quantity=3)
    login(buyer)
    response = client.post(f"/orders/{order.order_no}/aftersale?item={order.items[0].id}",
                           data=form(order.items[0].id, 1, kind="refund_only", reason="no_longer_wanted"))
    [aftersale] = requests_of(order)
    assert response.status_code == 302 and aftersale.status == "refunding" and aftersale.refund_fen == 9900
    assert "已同意退款，款项将原路退回" in text(client.get(response.headers["Location"]))


@pytest.mark.parametrize(("data", "status", "message"), [
    ({"reason": ""}, 422, "请选择售后原因"),
    ({"reason": "other", "reason_text": "  "}, 422, "请填写具体原因"),
    ({"kind": "swap"}, 422, "请选择售后类型"),
    ({"description": "长" * 501}, 422, "问题描述最多 500 字"),
    ({"quantity": "3"}, 409, "最多可申请 2 件"),
    ({"quantity": "0"}, 422, "请填写正确的数量"),
    ({"quantity": "99999999999999999999"}, 422, "请填写正确的数量"),
    ({"quantity": "abc"}, 422, "请填写正确的数量"),
])
def test_bad_applications_say_why_keep_the_input_and_change_nothing(client, make_user, login, sold, data, status,
                                                                     message):
    buyer = make_user()
    order = sold(buyer, "received")
    login(buyer)
    body = {**form(order.items[0].id, 1, description="我写的描述"), **data}
    response = client.post(f"/orders/{order.order_no}/aftersale?item={order.items[0].id}", data=body)
    assert response.status_code == status
    html = text(response)
    assert message in html and body["description"][:10] in html  # what was typed stays
    assert "built-in method" not in html
    assert requests_of(order) == []
    assert db.session.get(OrderItem, order.items[0].id).open_aftersale_id is None


def test_too_many_or_broken_photos_are_refused(client, make_user, login, sold):
    buyer = make_user()
    order = sold(buyer, "received")
    login(buyer)
    url = f"/orders/{order.order_no}/aftersale?item={order.items[0].id}"
    response = client.post(url, data=form(order.items[0].id, images=[png_bytes()] * 7), content_type="multipart/form-data")
    assert response.status_code == 422 and "最多上传 6 张图片" in text(response)
    response = client.post(url, data=form(order.items[0].id, images=[b"not an image"]),
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "只支持 JPEG、PNG 或 WebP 图片" in text(response)
    assert requests_of(order) == []


def test_an_item_that_may_not_be_asked_about_goes_back_to_the_order(client, make_user, login, sold):
    buyer = make_user()
    order = sold(buyer, "received")
    apply(order, kind="refund_only")
    login(buyer)
    response = client.get(f"/orders/{order.order_no}/aftersale?item={order.items[0].id}")
    assert response.status_code == 302 and response.headers["Location"] == f"/orders/{order.order_no}"
    assert "该商品当前不能申请售后" in text(client.get(f"/orders/{order.order_no}"))
    assert client.get(f"/orders/{order.order_no}/aftersale?item=999999").status_code == 404
    assert client.get(f"/orders/{order.order_no}/aftersale").status_code == 404


def test_the_refund_estimate_follows_the_quantity(client, make_user, login, sold):
    buyer = make_user()
    order = sold(buyer, "paid", quantity=3, shipping_fen=600)
    item_id = order.items[0].id
    login(buyer)
    url = f"/orders/{order.order_no}/aftersale/estimate"
    one = client.get(url, query_string={"item": item_id, "quantity": 1}, headers=HX)
    assert one.status_code == 200 and "<html" not in text(one) and "99</span>" in text(one)
    whole = text(client.get(url, query_string={"item": item_id, "quantity": 3}, headers=HX))
    assert "303</span>" in whole  # everything left of an unshipped order: shipping too
    clamped = text(client.get(url, query_string={"item": item_id, "quantity": "99999999999999"}, headers=HX))
    assert "99</span>" in clamped  # held to 1..what is left
    assert "0</span>" in text(client.get(url, query_string={"item": 424242, "quantity": 1}, headers=HX))


# --- the list -----------------------------------------------------------------------------------------------

def test_list_tabs_counts_cards_and_empty_state(client, make_user, login, sold):
    buyer = make_user()
    login(buyer)
    assert "还没有售后申请" in text(client.get("/aftersales"))
    pending = apply(sold(buyer, "received", title="裂开的杯子"))
    returning = apply(sold(buyer, "received", title="大了的鞋"), kind="exchange")
    approve(returning)
    apply(sold(make_user(), "received", title="别人的台灯"))
    html = text(client.get("/aftersales"))
    assert "裂开的杯子" in html and "大了的鞋" in html and "别人的台灯" not in html
    assert html.count('aftersale-card"') == 2 and "退货退款" in html and "换货" in html
    assert '<span class="tab-count">1</span>' in html
    pending_tab = text(client.get("/aftersales?tab=pending"))
    assert pending.aftersale_no in pending_tab and returning.aftersale_no not in pending_tab
    assert returning.aftersale_no in text(client.get("/aftersales?tab=awaiting_return"))
    assert "没有已完成的售后" in text(client.get("/aftersales?tab=done"))
    assert client.get("/aftersales?tab=nonsense").status_code == 200


def test_a_returned_or_disputed_request_is_in_the_processing_tab(client, make_user, login, sold):
    buyer = make_user()
    aftersale = apply(sold(buyer, "received"))
    approve(aftersale)
    with transaction():
        services.ship_back(buyer.id, aftersale.aftersale_no, "shunfeng", "SF5555666677")
    login(buyer)
    assert aftersale.aftersale_no in text(client.get("/aftersales?tab=processing"))


def test_list_pages_scroll_and_run_a_fixed_number_of_queries(client, make_user, login, sold, count_queries):
    buyer = make_user()
    login(buyer)
    apply(sold(buyer, "received"))
    with count_queries() as one:
        assert client.get("/aftersales").status_code == 200
    for _i in range(11):
        apply(sold(buyer, "received"))
    with count_queries() as many:
        html = text(client.get("/aftersales"))
    assert html.count('aftersale-card"') == 10 and 'hx-trigger="revealed"' in html
    assert len(many) == len(one), (len(one), len(many))
    more = text(client.get("/aftersales?page=2", headers=HX))
    assert "<html" not in more and more.count('aftersale-card"') == 2 and "没有更多了" in more


def test_me_links_to_aftersales_with_the_open_count(client, make_user, login, sold):
    buyer = make_user()
    login(buyer)
    assert 'href="/aftersales"' in text(client.get("/me"))
    apply(sold(buyer, "received"))
    cancelled = apply(sold(buyer, "received"))
    with transaction():
        services.cancel(buyer.id, cancelled.aftersale_no)
    html = text(client.get("/me"))
    assert re.search(r'href="/aftersales" class="order-shortcut">.*?unread-badge">1</sup>', html)


# --- a request's page and what the buyer does there ----------------------------------------------------------

def test_return_shipment_after_approval(client, make_user, login, sold):
    buyer = make_user()
    aftersale = apply(sold(buyer, "received"))
    login(buyer)
    assert "填写退货物流" not in text(client.get(f"/aftersales/{aftersale.aftersale_no}"))
    approve(aftersale)
    html = text(client.get(f"/aftersales/{aftersale.aftersale_no}"))
    assert "退货地址" in html and "售后部" in html and "仓前街道 1 号" in html and "data-copy" in html
    assert "填写退货物流" in html and "顺丰速运" in html and "逾期申请将关闭" in html

    url = f"/aftersales/{aftersale.aftersale_no}/return-shipment"
    refused = client.post(url, data={"carrier": "nobody", "tracking_no": "SF1"})
    assert refused.status_code == 422 and "请选择快递公司" in text(refused) and 'value="SF1"' in text(refused)
    refused = client.post(url, data={"carrier": "shunfeng", "tracking_no": "??"})
    assert refused.status_code == 422 and "is-invalid" in text(refused)
    assert status_of(aftersale) == "awaiting_return"

    done = client.post(url, data={"carrier": "shunfeng", "tracking_no": "sf9988776655"})
    assert done.status_code == 302 and status_of(aftersale) == "returned"
    html = text(client.get(done.headers["Location"]))
    assert "已提交退货物流" in html and "SF9988776655" in html and "填写退货物流" not in html
    assert "商家将在" in html and "逾期自动退款" in html


def test_withdraw_and_a_second_withdraw_says_why(client, make_user, login, sold):
    buyer = make_user()
    aftersale = apply(sold(buyer, "received"))
    login(buyer)
    client.post(f"/aftersales/{aftersale.aftersale_no}/cancel")
    assert status_of(aftersale) == "cancelled"
    response = client.post(f"/aftersales/{aftersale.aftersale_no}/cancel")
    assert response.status_code == 302
    html = text(client.get(response.headers["Location"]))
    assert "售后状态已变化" in html and "已撤销" in html and f"/aftersales/{aftersale.aftersale_no}/cancel" not in html


def test_reapply_after_a_rejection_with_the_form_filled_in(client, make_user, login, sold):
    buyer = make_user()
    order = sold(buyer, "received")
    aftersale = apply(order, description="第一次的描述")
    login(buyer)
    assert client.get(f"/aftersales/{aftersale.aftersale_no}/reapply").status_code == 302  # not rejected yet
    reject(aftersale)
    html = text(client.get(f"/aftersales/{aftersale.aftersale_no}"))
    assert "商品没有质量问题" in html and "修改后重新申请" in html and "申请平台介入" in html
    assert "前修改后重新申请或申请平台介入，逾期售后将关闭" in html  # the rejection's own deadline
    page = text(client.get(f"/aftersales/{aftersale.aftersale_no}/reapply"))
    assert "第一次的描述" in page and 'value="return_refund" autocomplete="off" checked' in page
    assert "商家拒绝理由：商品没有质量问题" in page

    url = f"/aftersales/{aftersale.aftersale_no}/reapply"
    bad = client.post(url, data=form(order.items[0].id, 1, reason="other", description="改过"))
    assert bad.status_code == 422 and "请填写具体原因" in text(bad) and status_of(aftersale) == "rejected"
    done = client.post(url, data=form(order.items[0].id, 1, kind="refund_only", description="改过"))
    assert done.status_code == 302 and done.headers["Location"] == f"/aftersales/{aftersale.aftersale_no}"
    db.session.expire_all()
    again = services.reload(aftersale.id)
    assert again.status == "pending" and again.kind == "refund_only" and again.reapplied == 1
    assert again.description == "改过"


def test_escalate_then_talk_in_the_thread(client, make_user, login, sold):
    buyer = make_user()
    aftersale = apply(sold(buyer, "received"))
    reject(aftersale)
    login(buyer)
    url = f"/aftersales/{aftersale.aftersale_no}/escalate"
    refused = client.post(url, data={"statement": "  "})
    assert refused.status_code == 422 and "请说明需要平台处理的问题" in text(refused)
    assert status_of(aftersale) == "rejected"
    done = client.post(url, data={"statement": "商品确实有裂纹", "images": [(io.BytesIO(png_bytes()), "a.png")]},
                       content_type="multipart/form-data")
    assert done.status_code == 302 and status_of(aftersale) == "disputed"
    html = text(client.get(f"/aftersales/{aftersale.aftersale_no}"))
    assert "平台介入" in html and "商品确实有裂纹" in html and "协商记录" in html
    assert "提交平台介入申请" not in html and "修改后重新申请" not in html  # escalated: neither is offered now

    messages = f"/aftersales/{aftersale.aftersale_no}/messages"
    partial = client.post(messages, data={"body": "补充一张照片"}, headers=HX)
    assert partial.status_code == 200 and "<html" not in text(partial) and "补充一张照片" in text(partial)
    assert toast(partial)["message"] == "留言已发送"
    empty = client.post(messages, data={"body": ""}, headers=HX)
    assert empty.status_code == 200 and toast(empty)["level"] == "danger" and "请输入留言" in text(empty)
    plain = client.post(messages, data={"body": "再说一句"})
    assert plain.status_code == 302
    bodies = db.session.scalars(sa.select(DisputeMessage.body).join(Dispute).where(
        Dispute.aftersale_id == aftersale.id).order_by(DisputeMessage.id)).all()
    assert bodies == ["补充一张照片", "再说一句"]


def test_confirm_the_exchange_replacement(client, make_user, login, sold):
    buyer = make_user()
    aftersale = apply(sold(buyer, "received"), kind="exchange")
    approve(aftersale)
    shop = owner_of(aftersale.order)
    with transaction():
        services.ship_back(buyer.id, aftersale.aftersale_no, "shunfeng", "SF5555666677")
    with transaction():
        services.receive(shop, aftersale.aftersale_no, True)
    login(buyer)
    assert "将在" in text(client.get(f"/aftersales/{aftersale.aftersale_no}"))  # the replacement is due
    with transaction():
        services.ship_replacement(shop, aftersale.aftersale_no, "zhongtong", "ZT1234567890")
    html = text(client.get(f"/aftersales/{aftersale.aftersale_no}"))
    assert "确认收到换货" in html and "中通快递" in html and "ZT1234567890" in html
    client.post(f"/aftersales/{aftersale.aftersale_no}/confirm-replacement")
    assert status_of(aftersale) == "completed"
    assert "换货完成" in text(client.get(f"/aftersales/{aftersale.aftersale_no}"))


def test_the_timeline_lists_each_step(client, make_user, login, sold):
    buyer = make_user()
    aftersale = apply(sold(buyer, "received"))
    approve(aftersale)
    login(buyer)
    html = text(client.get(f"/aftersales/{aftersale.aftersale_no}"))
    timeline = html.split("售后进度")[1]
    assert "买家申请售后" in timeline and "商家同意退货，等待买家寄回" in timeline
    assert timeline.index("待寄回商品") < timeline.index("待商家处理")  # newest first
    steps = db.session.scalar(sa.select(sa.func.count()).select_from(AfterSaleEvent)
                              .where(AfterSaleEvent.aftersale_id == aftersale.id))
    assert steps == 2


# --- who may ----------------------------------------------------------------------------------------------

def routes(order, aftersale) -> list[tuple[str, str]]:
    no, item = aftersale.aftersale_no, order.items[0].id
    return [
        ("get", f"/aftersales/{no}"), ("get", f"/aftersales/{no}/reapply"), ("post", f"/aftersales/{no}/reapply"),
        ("post", f"/aftersales/{no}/cancel"), ("post", f"/aftersales/{no}/return-shipment"),
        ("post", f"/aftersales/{no}/confirm-replacement"), ("post", f"/aftersales/{no}/escalate"),
        ("post", f"/aftersales/{no}/messages"), ("get", f"/aftersales/{no}/images/x.png"),
        ("get", f"/orders/{order.order_no}/aftersale?item={item}"),
        ("post", f"/orders/{order.order_no}/aftersale?item={item}"),
        ("get", f"/orders/{order.order_no}/aftersale/estimate?item={item}&quantity=1"),
        ("post", f"/orders/{order.order_no}/cancel-refund"),
    ]


def test_someone_elses_requests_and_orders_are_404_everywhere(client, make_user, login, sold):
    owner = make_user()
    order = sold(owner, "received")
    aftersale = apply(order)
    reject(aftersale)
    paid = sold(owner, "paid")
    login(make_user())
    for method, url in [*routes(order, aftersale), ("post", f"/orders/{paid.order_no}/cancel-refund")]:
        body = {**form(order.items[0].id), "carrier": "shunfeng", "tracking_no": "SF1234567890",
                "statement": "我也想介入", "body": "插一句"}
        response = getattr(client, method)(url, data=body) if method == "post" else client.get(url)
        assert response.status_code == 404, (method, url, response.status_code)
    assert status_of(aftersale) == "rejected" and len(requests_of(order)) == 1 and requests_of(paid) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Dispute)) == 0
    assert db.session.get(Order, paid.id).status == "paid"


def test_anonymous_visitors_are_sent_to_sign_in(client, make_user, sold):
    owner = make_user()
    order = sold(owner, "received")
    aftersale = apply(order)
    for method, url in [("get", "/aftersales"), *routes(order, aftersale)]:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], (method, url)
    assert status_of(aftersale) == "pending"


def test_an_expired_window_is_refused_with_its_reason(client, make_user, login, sold):
    from app.core.clock import travel

    buyer = make_user()
    order = sold(buyer, "received")
    login(buyer)
    with travel(timedelta(days=8)):
        assert client.get(f"/orders/{order.order_no}/aftersale?item={order.items[0].id}").status_code == 302
        assert f"/orders/{order.order_no}/aftersale?item=" not in text(client.get(f"/orders/{order.order_no}"))
