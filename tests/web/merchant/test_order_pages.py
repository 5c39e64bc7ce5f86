"""The console's order pages: the list (tabs, search, dates, HTMX table, fixed
query count), the detail, shipping inline and as a plain post, manual tracking
events, bulk shipping from a sheet with its template, and other shops refused."""
from __future__ import annotations

import json
from urllib.parse import unquote

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.merchants.models import MerchantMember
from app.orders.models import Order, Shipment, TrackingEvent
from tests.web.helpers import text

HX = {"HX-Request": "true"}


def fresh(order_id) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order_id)


@pytest.fixture
def shop(app, make_user, make_merchant, make_product, login):
    owner = make_user()
    merchant = make_merchant(owner=owner)
    product = make_product(merchant=merchant, title="有机苹果礼盒", stocks=(50,))
    return login(owner, on=app.test_client()), owner, merchant, product


@pytest.fixture
def order_in(make_user, place_order, pay_sandbox):
    """An order of `product` by a new buyer; paid unless paid=False."""

    def make(product, paid=True, phone=None, note=""):
        buyer = make_user(phone=phone)
        payment = place_order(buyer, [(product.skus[0].id, 1)], notes={product.merchant_id: note} if note else None)
        if paid:
            assert pay_sandbox(payment).status_code == 200
        db.session.expire_all()
        return db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))

    return make


def test_list_tabs_search_and_empty_states(shop, order_in, make_product):
    client, owner, merchant, product = shop
    html = text(client.get("/merchant/orders"))
    assert "没有待发货的订单" in html
    other = make_product(merchant=merchant, title="进口香蕉", stocks=(9,))
    paid = order_in(product, phone="13811112222", note="请用纸箱")
    unpaid = order_in(other, paid=False)
    html = text(client.get("/merchant/orders"))
    # 待发货 is the first tab and the default
    assert html.index("待发货") < html.index("待付款")
    assert paid.order_no in html and unpaid.order_no not in html and "请用纸箱" in html
    assert "138****2222" in html and "13811112222" not in html
    html = text(client.get("/merchant/orders?status=pending_payment"))
    assert unpaid.order_no in html and paid.order_no not in html
    # search: order number, buyer phone, product title (across all statuses)
    for q, hit, miss in ((paid.order_no, paid, unpaid), ("1381111", paid, unpaid), ("香蕉", unpaid, paid)):
        html = text(client.get("/merchant/orders", query_string={"status": "all", "q": q}))
        assert hit.order_no in html and miss.order_no not in html, q
    html = text(client.get("/merchant/orders?status=all&q=不存在的东西"))
    assert "没有符合条件的订单" in html


def test_date_filters_and_bad_dates(shop, order_in):
    client, owner, merchant, product = shop
    order = order_in(product)
    from app.core.clock import to_local
    day = to_local(order.created_at).date()
    html = text(client.get(f"/merchant/orders?status=all&date_from={day}&date_to={day}"))
    assert order.order_no in html
    html = text(client.get(f"/merchant/orders?status=all&date_from={day.replace(year=day.year + 1)}"))
    assert order.order_no not in html
    resp = client.get("/merchant/orders?status=all&date_from=2026-13-45")
    assert resp.status_code == 200 and "日期格式" in text(resp) and order.order_no in text(resp)
    html = text(client.get(f"/merchant/orders?status=all&date_from={day}&date_to=2000-01-01"))
    assert "结束日期不能早于开始日期" in html


def test_htmx_filter_returns_only_the_table(shop, order_in):
    client, owner, merchant, product = shop
    order = order_in(product)
    html = text(client.get("/merchant/orders?status=paid", headers={**HX, "HX-Target": "orders-table"}))
    assert order.order_no in html and "<html" not in html and 'id="order-tabs"' not in html


def test_list_runs_a_fixed_number_of_queries(shop, order_in, count_queries):
    client, owner, merchant, product = shop
    order_in(product)
    client.get("/merchant/orders?status=all")
    with count_queries() as one:
        client.get("/merchant/orders?status=all")
    for _ in range(4):
        order_in(product)
    with count_queries() as five:
        html = text(client.get("/merchant/orders?status=all"))
    assert html.count('class="order-group"') == 5
    assert len(five) == len(one)


def test_detail_shows_buyer_address_items_and_timeline(shop, order_in):
    client, owner, merchant, product = shop
    order = order_in(product, phone="13922223333")
    html = text(client.get(f"/merchant/orders/{order.order_no}"))
    assert "139****3333" in html and "王小明" in html and "五四路 100 号" in html and "有机苹果礼盒" in html
    assert "买家下单" in html and "买家付款" in html and 'name="carrier"' in html and "顺丰速运" in html


def test_ship_from_the_detail_page_with_htmx_and_errors(shop, order_in):
    client, owner, merchant, product = shop
    order = order_in(product)
    url = f"/merchant/orders/{order.order_no}/ship"
    resp = client.post(url, data={"carrier": "", "tracking_no": "SF1234567890"}, headers=HX)
    assert resp.status_code == 200 and "请选择快递公司" in text(resp) and 'value="SF1234567890"' in text(resp)
    assert fresh(order.id).status == "paid"
    resp = client.post(url, data={"carrier": "shunfeng", "tracking_no": "x"}, headers=HX)
    assert "运单号应为" in text(resp) and fresh(order.id).status == "paid"
    resp = client.post(url, data={"carrier": "shunfeng", "tracking_no": "sf1234567890"}, headers=HX)
    assert resp.headers["HX-Redirect"] == f"/merchant/orders/{order.order_no}"
    shipped = fresh(order.id)
    assert shipped.status == "shipped" and shipped.shipment.tracking_no == "SF1234567890"
    html = text(client.get(f"/merchant/orders/{order.order_no}"))
    assert "已发货" in html and "商家已发货" in html and "顺丰速运" in html and 'name="carrier"' not in html
    # shipping again is refused with a message, nothing changes
    resp = client.post(url, data={"carrier": "zhongtong", "tracking_no": "ZT1234567890"})
    assert resp.status_code == 422 and "只有待发货的订单可以发货" in text(resp)
    assert fresh(order.id).shipment.carrier_code == "shunfeng"


def test_ship_from_a_list_row_swaps_the_row_and_the_tab_counts(shop, order_in):
    client, owner, merchant, product = shop
    order = order_in(product)
    url = f"/merchant/orders/{order.order_no}/ship"
    resp = client.post(url, data={"carrier": "yuantong", "tracking_no": "", "from": "list", "tab": "paid"}, headers=HX)
    html = text(resp)
    assert f'id="order-{order.order_no}"' in html and "运单号应为" in html and "collapse show" in html
    resp = client.post(url, data={"carrier": "yuantong", "tracking_no": "YT9876543210", "from": "list", "tab": "paid"},
                       headers=HX)
    html = text(resp)
    assert f'id="order-{order.order_no}"' in html and "圆通速递 YT9876543210" in html
    assert 'hx-swap-oob="true"' in html and json.loads(resp.headers["HX-Trigger"])["toast"]["level"] == "success"
    assert fresh(order.id).status == "shipped"


def test_plain_post_ship_redirects_to_the_detail(shop, order_in):
    client, owner, merchant, product = shop
    order = order_in(product)
    resp = client.post(f"/merchant/orders/{order.order_no}/ship", data={"carrier": "ems", "tracking_no": "E12345678"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/merchant/orders/{order.order_no}")
    assert fresh(order.id).status == "shipped"


def test_manual_tracking_event(shop, order_in):
    client, owner, merchant, product = shop
    order = order_in(product)
    url = f"/merchant/orders/{order.order_no}/tracking"
    resp = client.post(url, data={"description": "已到达福州分拨中心"}, headers=HX)
    assert "订单尚未发货" in text(resp)
    client.post(f"/merchant/orders/{order.order_no}/ship", data={"carrier": "shunfeng", "tracking_no": "SF1234567890"})
    resp = client.post(url, data={"description": "  ", "location": "福州"}, headers=HX)
    assert "请填写物流动态" in text(resp) and 'value="福州"' in text(resp)
    resp = client.post(url, data={"description": "已到达福州分拨中心", "location": "福州"}, headers=HX)
    html = text(resp)
    assert 'id="tracking-panel"' in html and "已到达福州分拨中心" in html and "手动添加" in html
    events = db.session.scalars(sa.select(TrackingEvent).join(Shipment).where(Shipment.order_id == order.id)).all()
    assert {e.description for e in events} == {"商家已发货", "已到达福州分拨中心"}
    resp = client.post(url, data={"description": "派送中", "location": ""})
    assert resp.status_code == 302


def test_other_shops_staff_get_404_and_change_nothing(app, shop, order_in, make_user, make_merchant, login):
    client, owner, merchant, product = shop
    order = order_in(product)
    stranger = make_user()
    other_shop = make_merchant(owner=stranger)
    db.session.add(MerchantMember(merchant_id=other_shop.id, user_id=make_user().id, role="staff"))
    db.session.commit()
    outsider = login(stranger, on=app.test_client())
    no = order.order_no
    assert outsider.get(f"/merchant/orders/{no}").status_code == 404
    assert outsider.post(f"/merchant/orders/{no}/ship",
                         data={"carrier": "shunfeng", "tracking_no": "SF1234567890"}).status_code == 404
    assert outsider.post(f"/merchant/orders/{no}/ship", headers=HX,
                         data={"carrier": "shunfeng", "tracking_no": "SF1234567890", "from": "list"}).status_code == 200
    assert outsider.post(f"/merchant/orders/{no}/tracking", data={"description": "x"}).status_code == 404
    html = text(outsider.get(f"/merchant/orders?status=all&q={no}"))
    assert f'id="order-{no}"' not in html and "没有符合条件的订单" in html
    sheet = f"订单号,快递公司,运单号\n{no},顺丰,SF1234567890\n".encode()
    html = text(outsider.post("/merchant/orders/ship-sheet", data={"file": (__import__("io").BytesIO(sheet), "a.csv")},
                              content_type="multipart/form-data"))
    assert "成功发货 0 单" in html and "订单不存在" in html
    assert fresh(order.id).status == "paid" and fresh(order.id).shipment is None
    # staff of this shop may ship
    staff = make_user()
    db.session.add(MerchantMember(merchant_id=merchant.id, user_id=staff.id, role="staff"))
    db.session.commit()
    staff_client = login(staff, on=app.test_client())
    assert staff_client.post(f"/merchant/orders/{no}/ship",
                             data={"carrier": "shunfeng", "tracking_no": "SF1234567890"}).status_code == 302
    assert fresh(order.id).status == "shipped"


def test_bulk_ship_sheet_result_page(shop, order_in):
    import io
    client, owner, merchant, product = shop
    first, second = order_in(product), order_in(product)
    unpaid = order_in(product, paid=False)
    assert client.get("/merchant/orders/ship-sheet").status_code == 200
    sheet = (f"订单号,快递公司,运单号\n{first.order_no},顺丰,SF1000000001\n{second.order_no},中通快递,ZT1000000002\n"
             f"{unpaid.order_no},韵达,YD1000000003\n99999,不知道快递,X1\n").encode("gbk")
    resp = client.post("/merchant/orders/ship-sheet", data={"file": (io.BytesIO(sheet), "发货.csv")},
                       content_type="multipart/form-data")
    html = text(resp)
    assert resp.status_code == 200 and "成功发货 2 单" in html and "2 行有问题" in html
    assert first.order_no in html and second.order_no in html
    assert "第 4 行" in html and "只有待发货的订单可以发货" in html and "第 5 行" in html and "不支持的快递公司" in html
    assert fresh(first.id).status == "shipped" and fresh(second.id).shipment.carrier_code == "zhongtong"
    assert fresh(unpaid.id).status == "pending_payment"
    # a file without the columns, or no file, is named and nothing ships
    resp = client.post("/merchant/orders/ship-sheet", data={"file": (io.BytesIO(b"a,b\n1,2\n"), "x.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 422 and "表头应包含" in text(resp)
    resp = client.post("/merchant/orders/ship-sheet", data={}, content_type="multipart/form-data")
    assert resp.status_code == 422 and "请选择要上传的 CSV 文件" in text(resp)


def test_ship_sheet_template_download(shop):
    client, *_ = shop
    resp = client.get("/merchant/orders/ship-sheet/template.csv")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = resp.headers["Content-Disposition"]
    assert "filename*=UTF-8''" in disposition and unquote(disposition.split("''", 1)[1]) == "批量发货模板.csv"
    body = resp.data.decode("utf-8-sig")
    assert body.startswith("订单号,快递公司,运单号")


def test_sidebar_shows_orders_to_ship(shop, order_in):
    client, owner, merchant, product = shop
    order_in(product)
    order_in(product)
    html = text(client.get("/merchant/products"))
    assert "订单管理" in html and 'id="nav-badge-merchant-orders_list">2<' in html
