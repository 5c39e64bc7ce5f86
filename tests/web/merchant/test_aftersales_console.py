"""The console's after-sales pages: the queue (tabs with counts, search, HTMX table, a
fixed number of queries, the sidebar badge), a request's detail (lines, evidence, the
order, the buyer's history, the timeline), every answer through HTTP (approve with a
return address, refund, reject, receive with or without restock, ship the exchange's
replacement, the dispute statement and thread) with bad input refused and nothing
changed, and who may use which route (owner, staff, another shop, a non-member,
anonymous)."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.aftersales import disputes, services
from app.aftersales.models import AfterSale, AfterSaleEvent
from app.catalog.models import Sku
from app.core.clock import travel
from app.core.db import transaction
from app.extensions import db
from app.merchants.models import MerchantAddress, MerchantMember
from tests.aftersales.conftest import apply, default_address_id, owner_of, receive, ship
from tests.factories import png_bytes
from tests.web.helpers import text, toast

HX = {"HX-Request": "true"}


def status_of(aftersale) -> str:
    db.session.expire_all()
    return db.session.scalar(sa.select(AfterSale.status).where(AfterSale.id == aftersale.id))


def events_of(aftersale) -> int:
    return db.session.scalar(sa.select(sa.func.count(AfterSaleEvent.id))
                             .where(AfterSaleEvent.aftersale_id == aftersale.id))


def stock_of(sku_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Sku, sku_id).stock


@pytest.fixture
def console(app, login):
    """`console(order)`: a test client signed in as the order's shop owner."""

    def sign_in(order, user=None):
        user = user or db.session.get(User, owner_of(order).user_id)
        return login(user, on=app.test_client())

    return sign_in


@pytest.fixture
def received(bought):
    """`received(**bought_args)`: an order shipped and received, ready for any kind of request."""

    def make(**kwargs):
        return receive(ship(bought(**kwargs)))

    return make


def ship_back(aftersale, tracking="SF2222333344"):
    with transaction():
        services.ship_back(aftersale.buyer_id, aftersale.aftersale_no, "shunfeng", tracking)


# --- the queue ------------------------------------------------------------------------------------

def test_queue_tabs_counts_search_deadline_and_empty_states(received, console, make_user):
    order = received(quantity=2, buyer=make_user(phone="13811112222"))
    shop = console(order)
    assert "没有待处理的售后申请" in text(shop.get("/merchant/aftersales"))

    pending = apply(order, kind="return_refund", quantity=1)
    html = text(shop.get("/merchant/aftersales"))
    # 待处理 is the first tab and the default; the row says who, what, how much and how long is left
    assert html.index("待处理") < html.index("待确认收货")
    assert pending.aftersale_no in html and order.order_no in html
    assert "138****2222" in html and "13811112222" not in html
    assert "退货退款" in html and "¥99.00" in html and "剩 2 天 23 小时" in html and "待你处理" in html
    assert '<span class="tab-count">1</span>' in html

    # under 24 hours the deadline turns orange, past it red
    with travel(timedelta(days=2, hours=11, minutes=30)):
        html = text(shop.get("/merchant/aftersales"))
        assert "剩 12 小时" in html and "text-warning-emphasis" in html
    with travel(timedelta(days=3, hours=1)):
        assert "已逾期" in text(shop.get("/merchant/aftersales"))

    # another tab does not list it; search finds it by either number across the tabs
    assert pending.aftersale_no not in text(shop.get("/merchant/aftersales?tab=done"))
    for q in (pending.aftersale_no, order.order_no):
        html = text(shop.get("/merchant/aftersales", query_string={"tab": "all", "q": q}))
        assert pending.aftersale_no in html, q
    html = text(shop.get("/merchant/aftersales?tab=all&q=S000"))
    assert "没有找到" in html and pending.aftersale_no not in html
    # an unknown tab falls back to the first one; paging input is bounded
    assert pending.aftersale_no in text(shop.get("/merchant/aftersales?tab=bogus&per_page=-5"))
    assert shop.get("/merchant/aftersales?page=999999999999&per_page=abc").status_code == 200


def test_the_sidebar_counts_requests_waiting_for_the_shop(received, console):
    order = received(quantity=3)
    shop = console(order)
    assert "merchant.aftersales_list" not in text(shop.get("/merchant/"))  # endpoints are never printed
    apply(order, kind="return_refund", quantity=1)
    html = text(shop.get("/merchant/"))
    nav = html[html.index('href="/merchant/aftersales"'):]
    assert nav[:400].count("text-bg-danger") == 1 and ">1</span>" in nav[:400]


def test_htmx_search_returns_only_the_table(received, console):
    order = received()
    aftersale = apply(order, kind="return_refund")
    shop = console(order)
    html = text(shop.get(f"/merchant/aftersales?tab=all&q={aftersale.aftersale_no}",
                         headers={**HX, "HX-Target": "aftersales-table"}))
    assert aftersale.aftersale_no in html and "<html" not in html and 'id="aftersale-tabs"' not in html


def test_the_queue_runs_a_fixed_number_of_queries(received, console, count_queries):
    order = received(quantity=1, products=5)
    apply(order, kind="return_refund", item=0)
    shop = console(order)
    shop.get("/merchant/aftersales?tab=all")
    with count_queries() as one:
        shop.get("/merchant/aftersales?tab=all")
    for item in range(1, 5):
        apply(order, kind=("exchange", "refund_only")[item % 2], item=item)
    with count_queries() as five:
        html = text(shop.get("/merchant/aftersales?tab=all"))
    assert html.count('class="aftersale-row"') == 5
    assert len(five) == len(one), five


# --- the detail -------------------------------------------------------------------------------------

def test_detail_shows_lines_evidence_order_history_and_timeline(received, console, make_user):
    order = received(quantity=2, buyer=make_user(phone="13922223333"))
    aftersale = apply(order, kind="return_refund", description="屏幕有划痕", images=[png_bytes()])
    shop = console(order)
    html = text(shop.get(f"/merchant/aftersales/{aftersale.aftersale_no}"))
    assert order.items[0].title in html and "质量问题" in html and "屏幕有划痕" in html
    assert "139****3333" in html and "13922223333" not in html
    assert f'href="/merchant/orders/{order.order_no}"' in html
    assert "在本店共申请售后 1 次" in html and "当前" in html
    assert "买家申请售后" in html and "售后记录" in html and "data-doc-viewer" in html
    # the evidence is served to the shop, and only the request's own files
    name = aftersale.images[0]["key"].rsplit("/", 1)[-1]
    thumb = aftersale.images[0]["thumb_key"].rsplit("/", 1)[-1]
    for n in (name, thumb):
        response = shop.get(f"/merchant/aftersales/{aftersale.aftersale_no}/images/{n}")
        assert response.status_code == 200 and response.mimetype.startswith("image/")
    assert shop.get(f"/merchant/aftersales/{aftersale.aftersale_no}/images/nope.png").status_code == 404
    # the approve form offers the shop's addresses, the default chosen
    default_id = default_address_id(order)
    assert f'<option value="{default_id}" selected>' in html and "同意退货" in html and "拒绝" in html
    # no address: the way to add one instead of the form
    db.session.execute(sa.delete(MerchantAddress).where(MerchantAddress.merchant_id == order.merchant_id))
    db.session.commit()
    html = text(shop.get(f"/merchant/aftersales/{aftersale.aftersale_no}"))
    assert "还没有退货地址，无法同意退货" in html and "去添加退货地址" in html


# --- the answers ------------------------------------------------------------------------------------

def test_approve_a_return_then_receive_it_with_restock(received, console, run_jobs):
    order = received(quantity=2)
    sku_id = order.items[0].sku_id
    aftersale = apply(order, kind="return_refund", quantity=1)
    shop = console(order)
    url = f"/merchant/aftersales/{aftersale.aftersale_no}"

    # another shop's address (or none) is refused, nothing moves
    theirs = received()
    before = events_of(aftersale)
    for address_id in ("", "abc", str(default_address_id(theirs)), "99999999999"):
        response = shop.post(f"{url}/approve", data={"return_address_id": address_id}, headers=HX)
        assert response.status_code == 200 and toast(response)["level"] == "danger", address_id
        assert "请选择退货地址" in text(response)
    assert status_of(aftersale) == "pending" and events_of(aftersale) == before

    response = shop.post(f"{url}/approve", data={"return_address_id": default_address_id(order)}, headers=HX)
    html = text(response)
    assert toast(response) == {"message": "已同意，买家将按所选地址寄回商品", "level": "success"}
    assert 'id="aftersale-actions"' in html and 'id="aftersale-timeline" hx-swap-oob="true"' in html
    assert 'id="aftersale-status" hx-swap-oob="true"' in html and "待买家退货" in html and "售后部" in html
    assert status_of(aftersale) == "awaiting_return"

    ship_back(aftersale)
    html = text(shop.get(url))
    assert "SF2222333344" in html and "确认收到退货" in html and "data-confirm" in html
    before = stock_of(sku_id)
    response = shop.post(f"{url}/receive", data={}, headers=HX)
    assert "请选择退回的商品是否入库" in text(response) and status_of(aftersale) == "returned"
    response = shop.post(f"{url}/receive", data={"restock": "maybe"}, headers=HX)
    assert toast(response)["level"] == "danger" and status_of(aftersale) == "returned"
    response = shop.post(f"{url}/receive", data={"restock": "1"}, headers=HX)
    assert toast(response)["level"] == "success" and status_of(aftersale) == "refunding"
    assert stock_of(sku_id) == before + 1
    run_jobs()
    assert status_of(aftersale) == "refunded"
    html = text(shop.get(url))
    assert "已退款" in html and "已入库" in html and "当前没有需要你操作的步骤" in html


def test_a_damaged_return_is_received_without_restock_as_a_plain_post(received, console):
    order = received(quantity=1)
    sku_id = order.items[0].sku_id
    aftersale = apply(order, kind="return_refund")
    shop = console(order)
    url = f"/merchant/aftersales/{aftersale.aftersale_no}"
    assert shop.post(f"{url}/approve", data={"return_address_id": default_address_id(order)}).status_code == 302
    ship_back(aftersale)
    before = stock_of(sku_id)
    response = shop.post(f"{url}/receive", data={"restock": "0"})
    assert response.status_code == 302 and response.headers["Location"] == url
    assert status_of(aftersale) == "refunding" and stock_of(sku_id) == before
    assert "未入库（商品损坏）" in text(shop.get(url))
    # a plain post of bad input re-renders the page with the message (422), nothing moves
    other = apply(received(quantity=1), kind="return_refund")
    other_shop = console(db.session.get(type(order), other.order_id))
    response = other_shop.post(f"/merchant/aftersales/{other.aftersale_no}/reject", data={"reason": "x"})
    assert response.status_code == 422 and "请填写拒绝理由" in text(response) and status_of(other) == "pending"


def test_a_refund_only_before_shipping_holds_shipping_until_the_shop_refunds(bought, console):
    order = bought(quantity=1, auto_refund=False)
    aftersale = apply(order, kind="refund_only", reason="no_longer_wanted")
    shop = console(order)
    html = text(shop.get(f"/merchant/orders/{order.order_no}"))
    assert "买家申请了退款，请先处理售后申请再发货" in html and 'name="carrier"' not in html
    assert f"去处理 {aftersale.aftersale_no}" in html and 'id="order-aftersales"' in html
    assert "售后中" in text(shop.get("/merchant/orders"))
    # the console's ship post is refused too, and says why
    response = shop.post(f"/merchant/orders/{order.order_no}/ship", data={"carrier": "shunfeng",
                                                                          "tracking_no": "SF1234567890"})
    assert response.status_code == 422 and "买家申请了退款" in text(response)

    html = text(shop.get(f"/merchant/aftersales/{aftersale.aftersale_no}"))
    assert "同意退款" in html and "同意退款 ¥99.00？款项将原路退回买家，无法撤销。" in html and "同意退货" not in html
    response = shop.post(f"/merchant/aftersales/{aftersale.aftersale_no}/refund")
    assert response.status_code == 302 and status_of(aftersale) == "refunding"
    html = text(shop.get(f"/merchant/orders/{order.order_no}"))
    assert "已退 1 件" in html and aftersale.aftersale_no in html and "买家申请了退款" not in html


def test_reject_needs_a_reason_and_the_buyer_sees_it(received, console):
    order = received()
    aftersale = apply(order, kind="return_refund")
    shop = console(order)
    url = f"/merchant/aftersales/{aftersale.aftersale_no}/reject"
    for reason in ("", " ", "好", "很" * 201):
        response = shop.post(url, data={"reason": reason}, headers=HX)
        html = text(response)
        assert "请填写拒绝理由" in html and toast(response)["level"] == "danger", reason
        assert 'id="reject-form"' in html and "collapse show" in html
    assert status_of(aftersale) == "pending"
    response = shop.post(url, data={"reason": "商品已使用，影响二次销售"}, headers=HX)
    assert toast(response)["message"] == "已拒绝该售后申请" and status_of(aftersale) == "rejected"
    assert "商品已使用，影响二次销售" in text(shop.get(f"/merchant/aftersales/{aftersale.aftersale_no}"))
    # a second answer on a request that moved on is refused with a message, nothing changes
    before = events_of(aftersale)
    response = shop.post(f"/merchant/aftersales/{aftersale.aftersale_no}/refund", headers=HX)
    assert toast(response) == {"message": "售后状态已变化，请刷新后重试", "level": "danger"}
    assert status_of(aftersale) == "rejected" and events_of(aftersale) == before


def test_an_exchange_is_received_then_its_replacement_shipped(received, console):
    order = received(quantity=1, stocks=(5,))
    sku_id = order.items[0].sku_id
    aftersale = apply(order, kind="exchange", reason="size_color")
    shop = console(order)
    url = f"/merchant/aftersales/{aftersale.aftersale_no}"
    shop.post(f"{url}/approve", data={"return_address_id": default_address_id(order)}, headers=HX)
    ship_back(aftersale)
    html = text(shop.get(url))
    assert "确认收到退货" in html and "发出换货" not in html
    assert shop.post(f"{url}/receive", data={"restock": "0"}, headers=HX).status_code == 200
    assert status_of(aftersale) == "returned"
    html = text(shop.get(url))
    assert "发出换货" in html and "已确认收到退货，请发出换货商品" in html

    before = stock_of(sku_id)
    for data, message in (({"carrier": "", "tracking_no": "SF5555666677"}, "请选择快递公司"),
                          ({"carrier": "shunfeng", "tracking_no": "x"}, "运单号")):
        response = shop.post(f"{url}/ship-replacement", data=data, headers=HX)
        assert message in text(response) and toast(response)["level"] == "danger"
    assert status_of(aftersale) == "returned" and stock_of(sku_id) == before
    response = shop.post(f"{url}/ship-replacement", data={"carrier": "shunfeng", "tracking_no": "sf5555666677"},
                         headers=HX)
    assert toast(response)["level"] == "success" and "SF5555666677" in text(response)
    assert status_of(aftersale) == "exchange_shipped" and stock_of(sku_id) == before - 1


def test_the_shop_states_its_side_and_writes_in_the_dispute_thread(received, console):
    order = received()
    aftersale = apply(order, kind="return_refund")
    shop = console(order)
    url = f"/merchant/aftersales/{aftersale.aftersale_no}"
    shop.post(f"{url}/reject", data={"reason": "超过七天无理由退货期"})
    # not disputed yet: the thread is closed to the shop
    response = shop.post(f"{url}/messages", data={"body": "你好"}, headers=HX)
    assert toast(response)["level"] == "danger"
    with transaction():
        disputes.escalate(order.buyer_id, aftersale.aftersale_no, "商品确有质量问题", [png_bytes()])
    html = text(shop.get(url))
    assert "平台介入" in html and "商品确有质量问题" in html and "提交商家说明" in html and "直接退款" in html

    response = shop.post(f"{url}/statement", data={"statement": "  "}, headers=HX)
    assert "请填写商家说明" in text(response) and toast(response)["level"] == "danger"
    response = shop.post(f"{url}/statement", data={"statement": "x", "images": [(io.BytesIO(b"not an image"), "a.png")]},
                         headers=HX, content_type="multipart/form-data")
    assert toast(response)["level"] == "danger"
    db.session.expire_all()
    assert services.reload(aftersale.id).dispute.merchant_statement is None

    response = shop.post(f"{url}/statement", headers=HX, content_type="multipart/form-data",
                         data={"statement": "发货前已拍视频确认完好", "images": [(io.BytesIO(png_bytes()), "proof.png")]})
    html = text(response)
    assert toast(response)["level"] == "success" and "发货前已拍视频确认完好" in html and 'id="aftersale-dispute"' in html
    db.session.expire_all()
    dispute = services.reload(aftersale.id).dispute
    assert dispute.merchant_statement == "发货前已拍视频确认完好" and len(dispute.merchant_evidence) == 1
    evidence = dispute.merchant_evidence[0]["key"].rsplit("/", 1)[-1]
    assert shop.get(f"{url}/images/{evidence}").status_code == 200

    assert "请输入留言" in text(shop.post(f"{url}/messages", data={"body": ""}, headers=HX))
    response = shop.post(f"{url}/messages", data={"body": "请平台查看发货视频"}, headers=HX)
    assert toast(response)["message"] == "留言已发送" and "请平台查看发货视频" in text(response) and "本店" in text(response)
    assert len(services.reload(aftersale.id).dispute.messages) == 1


# --- who may use the routes ---------------------------------------------------------------------------

def _routes(no: str) -> list[tuple[str, str, dict]]:
    base = f"/merchant/aftersales/{no}"
    return [("get", base, {}), ("get", f"{base}/images/x.png", {}),
            ("post", f"{base}/approve", {"return_address_id": "1"}), ("post", f"{base}/refund", {}),
            ("post", f"{base}/reject", {"reason": "不同意退货"}), ("post", f"{base}/receive", {"restock": "1"}),
            ("post", f"{base}/ship-replacement", {"carrier": "shunfeng", "tracking_no": "SF1234567890"}),
            ("post", f"{base}/statement", {"statement": "说明"}), ("post", f"{base}/messages", {"body": "留言"})]


def test_another_shop_gets_404_on_every_route_and_nothing_changes(received, console):
    order = received()
    aftersale = apply(order, kind="refund_only")
    intruder = console(received())  # the owner of another shop
    before = (status_of(aftersale), events_of(aftersale))
    for method, url, data in _routes(aftersale.aftersale_no):
        response = getattr(intruder, method)(url, data=data)
        assert response.status_code == 404, (method, url)
        response = getattr(intruder, method)(url, data=data, headers=HX)
        assert toast(response)["level"] == "danger", (method, url)
    assert (status_of(aftersale), events_of(aftersale)) == before
    assert aftersale.aftersale_no not in text(intruder.get("/merchant/aftersales?tab=all"))
    html = text(intruder.get(f"/merchant/aftersales?tab=all&q={aftersale.aftersale_no}"))
    assert 'class="aftersale-row"' not in html and "没有找到" in html


def test_non_members_and_anonymous_callers_are_turned_away(received, console, make_user, client):
    order = received()
    aftersale = apply(order, kind="refund_only")
    outsider = console(order, user=make_user())
    routes = [("get", "/merchant/aftersales", {})] + _routes(aftersale.aftersale_no)
    for method, url, data in routes:
        response = getattr(outsider, method)(url, data=data)
        assert response.status_code == 302 and response.headers["Location"].endswith("/merchant/"), url
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    assert status_of(aftersale) == "pending"


def test_staff_use_every_route_but_not_the_shops_addresses(received, console, make_user):
    order = received(quantity=1, products=3)
    clerk = make_user()
    db.session.add(MerchantMember(merchant_id=order.merchant_id, user_id=clerk.id, role="staff"))
    db.session.commit()
    staff = console(order, user=clerk)
    exchange = apply(order, kind="exchange", item=0, images=[png_bytes()])
    rejected = apply(order, kind="return_refund", item=1)
    refunded = apply(order, kind="refund_only", item=2)
    base = f"/merchant/aftersales/{exchange.aftersale_no}"

    assert exchange.aftersale_no in text(staff.get("/merchant/aftersales"))
    html = text(staff.get(base))
    assert "同意退货" in html and "管理退货地址" not in html  # the address book is the owner's
    name = exchange.images[0]["key"].rsplit("/", 1)[-1]
    assert staff.get(f"{base}/images/{name}").status_code == 200
    steps = [(f"{base}/approve", {"return_address_id": default_address_id(order)}, "awaiting_return"),
             (f"{base}/receive", {"restock": "1"}, "returned"),
             (f"{base}/ship-replacement", {"carrier": "shunfeng", "tracking_no": "SF5555666677"}, "exchange_shipped")]
    for url, data, status in steps:
        if url.endswith("/receive"):
            ship_back(exchange)
        response = staff.post(url, data=data, headers=HX)
        assert toast(response)["level"] == "success" and status_of(exchange) == status, url
    event = db.session.scalar(sa.select(AfterSaleEvent).where(AfterSaleEvent.aftersale_id == exchange.id,
                                                              AfterSaleEvent.to_status == "awaiting_return"))
    assert event.actor_id == clerk.id
    assert "商家" in text(staff.get(base))

    reject_url = f"/merchant/aftersales/{rejected.aftersale_no}"
    assert toast(staff.post(f"{reject_url}/reject", data={"reason": "不支持退货"}, headers=HX))["level"] == "success"
    with transaction():
        disputes.escalate(order.buyer_id, rejected.aftersale_no, "质量问题")
    assert toast(staff.post(f"{reject_url}/statement", data={"statement": "店员说明"}, headers=HX))["level"] == "success"
    assert toast(staff.post(f"{reject_url}/messages", data={"body": "店员留言"}, headers=HX))["level"] == "success"
    response = staff.post(f"/merchant/aftersales/{refunded.aftersale_no}/refund", headers=HX)
    assert toast(response)["level"] == "success" and status_of(refunded) == "refunding"

    assert staff.post("/merchant/settings/return-addresses", data={"recipient": "店员", "phone": "13800000000",
                                                                   "address": "杭州市西湖区 1 号"}).status_code == 403
