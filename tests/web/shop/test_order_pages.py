"""我的订单: tabs with counts, infinite scroll, the order page with its timelines,
cancel, confirm receipt, paying again, and other buyers refused."""
import pytest
import sqlalchemy as sa

from app.core.db import transaction
from app.extensions import db
from app.orders.models import Order
from app.payments.models import Payment

HX = {"HX-Request": "true"}


def _status(order):
    return db.session.scalar(sa.select(Order.status).where(Order.id == order.id).execution_options(populate_existing=True))


def test_tabs_filter_and_count(client, make_user, login, buyer_order):
    buyer = make_user()
    unpaid = buyer_order(buyer, title="待付款的杯子")
    paid = buyer_order(buyer, "paid", title="待发货的毛巾")
    shipped = buyer_order(buyer, "shipped", title="路上的台灯")
    received = buyer_order(buyer, "received", title="收到的拖鞋")
    buyer_order(make_user(), title="别人的订单")
    login(buyer)
    html = client.get("/orders").get_data(as_text=True)
    for title in ("待付款的杯子", "待发货的毛巾", "路上的台灯", "收到的拖鞋"):
        assert title in html
    assert "别人的订单" not in html
    assert 'bg-brand unread-badge">1</span>' in html  # tab badges
    for tab, expected, action in (("pending_payment", unpaid, "去支付"), ("to_ship", paid, "查看详情"),
                                  ("to_receive", shipped, "确认收货"), ("to_review", received, "评价")):
        page = client.get(f"/orders?tab={tab}").get_data(as_text=True)
        assert page.count('class="card border-0 shadow-sm mb-2 order-card"') == 1, tab
        assert expected.order_no in page and action in page
    assert "去支付" in client.get("/orders?tab=pending_payment").get_data(as_text=True)
    assert client.get("/orders?tab=nonsense").status_code == 200  # an unknown tab is 全部


def test_empty_states_and_login(client, make_user, login):
    assert client.get("/orders").status_code == 302
    login(make_user())
    assert "还没有订单" in client.get("/orders").get_data(as_text=True)
    assert "没有待收货的订单" in client.get("/orders?tab=to_receive").get_data(as_text=True)


def test_infinite_scroll_pages(client, make_user, login, buyer_order, make_product):
    buyer = make_user()
    product = make_product(stocks=(50,))
    for _i in range(12):
        buyer_order(buyer, product=product)
    login(buyer)
    html = client.get("/orders").get_data(as_text=True)
    assert html.count("order-card\"") == 10 and 'hx-trigger="revealed"' in html and "page=2" in html
    partial = client.get("/orders?page=2", headers=HX).get_data(as_text=True)
    assert "<html" not in partial and partial.count("order-card\"") == 2 and "没有更多了" in partial


def test_order_list_query_count_is_constant(client, make_user, login, buyer_order, make_product, count_queries):
    buyer = make_user()
    login(buyer)
    buyer_order(buyer, "shipped")
    with count_queries() as one:
        assert client.get("/orders").status_code == 200
    for status in ("pending_payment", "paid", "received", "shipped"):
        buyer_order(buyer, status)
    with count_queries() as five:
        html = client.get("/orders").get_data(as_text=True)
    assert html.count("order-card\"") == 5
    assert len(five) == len(one), (len(one), len(five))


def test_order_page_shows_address_items_timelines_and_tracking(client, make_user, login, buyer_order):
    buyer = make_user()
    order = buyer_order(buyer, "shipped", title="路上的台灯")
    login(buyer)
    html = client.get(f"/orders/{order.order_no}").get_data(as_text=True)
    assert "待收货" in html and "路上的台灯" in html and "王小明" in html and "五四路 100 号" in html
    assert "顺丰速运" in html and "SF1234567890" in html and "商家已发货" in html  # tracking
    assert "提交订单" in html and "已付款" in html and "已发货" in html  # status timeline
    assert "确认收货" in html and "data-confirm" in html
    unpaid = buyer_order(buyer)
    html = client.get(f"/orders/{unpaid.order_no}").get_data(as_text=True)
    assert "剩余付款时间" in html and f'data-ends-at="{unpaid.pay_expires_at.isoformat()}"' in html
    assert "取消订单" in html and "去支付" in html


def test_someone_elses_order_is_404_everywhere(client, make_user, login, buyer_order):
    owner, other = make_user(), make_user()
    unpaid, shipped = buyer_order(owner), buyer_order(owner, "shipped")
    login(other)
    assert client.get(f"/orders/{unpaid.order_no}").status_code == 404
    assert client.post(f"/orders/{unpaid.order_no}/cancel").status_code == 404
    assert client.post(f"/orders/{shipped.order_no}/confirm").status_code == 404
    assert client.get(f"/orders/{unpaid.order_no}/pay").status_code == 404
    assert client.post(f"/orders/{unpaid.order_no}/pay", data={"provider": "sandbox"}).status_code == 404
    assert _status(unpaid) == "pending_payment" and _status(shipped) == "shipped"


def test_cancel_unpaid_order(client, make_user, login, buyer_order):
    buyer = make_user()
    order = buyer_order(buyer)
    login(buyer)
    response = client.post(f"/orders/{order.order_no}/cancel")
    assert response.status_code == 302 and response.headers["Location"] == f"/orders/{order.order_no}"
    assert _status(order) == "cancelled"
    html = client.get(f"/orders/{order.order_no}").get_data(as_text=True)
    assert "订单已取消" in html and "买家取消" in html and "去支付" not in html
    paid = buyer_order(buyer, "paid")
    client.post(f"/orders/{paid.order_no}/cancel")
    assert "不能直接取消" in client.get(f"/orders/{paid.order_no}").get_data(as_text=True)
    assert _status(paid) == "paid"


@pytest.mark.parametrize(("state", "message"), [
    ("paid", "订单已付款，不能直接取消；如需退款请申请售后"),
    ("shipped", "订单已发货，不能取消；如需退款请申请售后"),
    ("received", "订单已确认收货，不能取消；如需退款请申请售后"),
    ("completed", "订单已完成，不能取消"),
    ("cancelled", "订单已取消"),
    ("closed", "订单已关闭，不能取消"),
])
def test_cancel_refusal_names_the_orders_real_state(client, make_user, login, buyer_order, state, message):
    buyer = make_user()
    if state == "cancelled":
        order = buyer_order(buyer)
        login(buyer)
        client.post(f"/orders/{order.order_no}/cancel")
    else:
        order = buyer_order(buyer, "received" if state in ("completed", "closed") else state)
        if state in ("completed", "closed"):  # reached by the window closing / a full refund; the state is what counts here
            with transaction():
                db.session.execute(sa.update(Order).where(Order.id == order.id).values(status=state))
        login(buyer)
    client.get("/me")  # drop any flash left by the first cancel
    response = client.post(f"/orders/{order.order_no}/cancel")
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert session.get("_flashes") == [("danger", message)]
    assert _status(order) == state


def test_confirm_receipt_only_when_shipped(client, make_user, login, buyer_order):
    buyer = make_user()
    paid, shipped = buyer_order(buyer, "paid"), buyer_order(buyer, "shipped")
    login(buyer)
    client.post(f"/orders/{paid.order_no}/confirm")
    assert "订单尚未发货，不能确认收货" in client.get(f"/orders/{paid.order_no}").get_data(as_text=True)
    assert _status(paid) == "paid"
    client.post(f"/orders/{shipped.order_no}/confirm")
    assert _status(shipped) == "received"
    html = client.get(f"/orders/{shipped.order_no}").get_data(as_text=True)
    assert "已确认收货" in html and "评价" in html


def test_pay_again_chooses_a_gateway(client, make_user, login, buyer_order):
    buyer = make_user()
    order = buyer_order(buyer)
    login(buyer)
    html = client.get(f"/orders/{order.order_no}/pay").get_data(as_text=True)
    assert "沙箱支付" in html and 'name="provider"' in html
    response = client.post(f"/orders/{order.order_no}/pay", data={"provider": "sandbox"})
    trade_no = db.session.scalar(sa.select(Payment.out_trade_no).where(Payment.id == order.payment_id))
    assert response.headers["Location"] == f"/payments/sandbox/{trade_no}"
    response = client.post(f"/orders/{order.order_no}/pay", data={"provider": "nope"})
    assert response.headers["Location"] == f"/orders/{order.order_no}/pay"
    paid = buyer_order(buyer, "paid")
    assert client.get(f"/orders/{paid.order_no}/pay").headers["Location"] == f"/orders/{paid.order_no}"


def test_me_page_links_each_order_tab_with_its_count(client, make_user, login, buyer_order):
    buyer = make_user()
    buyer_order(buyer, "paid")
    buyer_order(buyer, "paid")
    buyer_order(buyer, "shipped")
    login(buyer)
    html = client.get("/me").get_data(as_text=True)
    for tab, count in (("to_ship", "2"), ("to_receive", "1")):
        link = html[html.index(f'href="/orders?tab={tab}"'):]
        assert link[:link.index("</a>")].count(f'unread-badge">{count}</sup>') == 1, tab
    pending = html[html.index('href="/orders?tab=pending_payment"'):]
    assert "unread-badge" not in pending[:pending.index("</a>")]


def test_an_order_past_its_payment_time_shows_cancelled_even_without_a_scheduler(client, make_user, login,
                                                                                  buyer_order):
    from datetime import timedelta

    from app.core.clock import travel

    buyer = make_user()
    order = buyer_order(buyer, title="超时的茶杯")
    login(buyer)
    with travel(timedelta(minutes=31)):
        page = client.get("/orders?tab=pending_payment").get_data(as_text=True)
        assert "超时的茶杯" not in page
        detail = client.get(f"/orders/{order.order_no}").get_data(as_text=True)
    assert _status(order) == "cancelled" and "已取消" in detail
