"""Admin orders, payments and payment notifications: pages render, filters and
search work, details show timeline, payment, shipment, refunds and every
notification (forged and tampered ones too), permissions by role, fixed query
counts, and the order settings on the settings page."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core import settings as platform_settings
from app.core.db import transaction
from app.extensions import db
from app.orders import services as order_services
from app.orders.models import Order
from app.payments.models import Payment, PaymentNotification
from tests.factories import sandbox_notification
from tests.web.helpers import text

HX = {"HX-Request": "true"}


def admin_client(app, make_user, login, role="operator"):
    admin = make_user(admin_role=role)
    return login(admin, on=app.test_client()), admin


@pytest.fixture
def order_of(make_user, make_merchant, make_product, place_order, pay_sandbox):
    """place an order in a shop (paid unless paid=False) -> (order, payment)."""

    def make(merchant=None, title=None, paid=True, phone=None):
        product = make_product(merchant=merchant or make_merchant(), title=title, stocks=(50,))
        payment = place_order(make_user(phone=phone), [(product.skus[0].id, 1)])
        if paid:
            assert pay_sandbox(payment).status_code == 200
        db.session.expire_all()
        order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))
        return order, db.session.get(Payment, payment.id)

    return make


@pytest.mark.parametrize("path", ["/admin/orders", "/admin/payments", "/admin/payments/notifications"])
def test_shoppers_are_refused_and_finance_sees_orders_and_payments(app, client, make_user, login, path):
    login(make_user())
    assert client.get(path).status_code == 403
    finance, _ = admin_client(app, make_user, login, "finance")
    assert finance.get(path).status_code == 200
    assert admin_client(app, make_user, login, "super")[0].get(path).status_code == 200


def test_orders_list_filters_and_search(app, make_user, login, make_merchant, order_of):
    c, _ = admin_client(app, make_user, login)
    assert "平台上还没有订单" in text(c.get("/admin/orders"))
    shop = make_merchant(name="水果小站")
    paid, _ = order_of(merchant=shop, title="赣南脐橙", phone="13855556666")
    unpaid, _ = order_of(title="东北大米", paid=False)
    html = text(c.get("/admin/orders"))
    assert paid.order_no in html and unpaid.order_no in html and "水果小站" in html
    assert "138****6666" in html and "13855556666" not in html
    for query, hit, miss in (({"status": "paid"}, paid, unpaid), ({"status": "pending_payment"}, unpaid, paid),
                             ({"merchant_id": shop.id}, paid, unpaid), ({"q": "大米"}, unpaid, paid),
                             ({"q": paid.order_no}, paid, unpaid), ({"q": "1385555"}, paid, unpaid)):
        html = text(c.get("/admin/orders", query_string=query, headers={**HX, "HX-Target": "orders-table"}))
        assert hit.order_no in html and miss.order_no not in html and "<html" not in html, query
    html = text(c.get("/admin/orders?date_from=2000-01-01&date_to=2000-01-02"))
    assert "没有符合条件的订单" in html
    html = text(c.get("/admin/orders?date_from=yesterday"))
    assert "日期格式" in html and paid.order_no in html


def test_order_detail_shows_payment_shipment_and_timeline(app, make_user, login, order_of):
    c, _ = admin_client(app, make_user, login, "finance")
    order, payment = order_of(title="福鼎白茶")
    owner_id = order.merchant_id and db.session.execute(sa.text(
        "select user_id from merchant_members where merchant_id = :m"), {"m": order.merchant_id}).scalar()
    with transaction():
        order_services.ship(owner_id, order.merchant_id, order.order_no, "jd", "JD0012345678")
    html = text(c.get(f"/admin/orders/{order.order_no}"))
    assert "福鼎白茶" in html and payment.out_trade_no in html and payment.transaction_id in html
    assert "沙箱" in html and "已支付" in html and "京东物流" in html and "JD0012345678" in html
    assert "买家下单" in html and "买家付款" in html and "商家发货" in html and "没有退款" in html
    assert 'name="description"' not in html  # admins read tracking, they do not add to it
    assert c.get("/admin/orders/nope").status_code == 404


def test_cancelled_then_paid_order_shows_its_refund(app, make_user, login, order_of, pay_sandbox):
    c, _ = admin_client(app, make_user, login)
    order, payment = order_of(paid=False)
    with transaction():
        order_services.cancel_by_buyer(order.buyer_id, order.order_no)
    assert pay_sandbox(payment).status_code == 200  # the money arrives after the cancel: it goes back
    html = text(c.get(f"/admin/orders/{order.order_no}"))
    refund_amount = f"¥{order.amount_fen / 100:.2f}"
    assert ("退款中" in html or "已退款" in html) and refund_amount in html and "没有退款" not in html
    html = text(c.get(f"/admin/payments/{payment.out_trade_no}"))
    assert "到账后退回" in html and "没有退款" not in html


def test_payments_list_filter_search_and_detail_with_notifications(app, client, make_user, login, order_of,
                                                                  pay_sandbox):
    c, _ = admin_client(app, make_user, login, "finance")
    order, payment = order_of()
    _unpaid_order, unpaid = order_of(paid=False)
    html = text(c.get("/admin/payments"))
    assert payment.out_trade_no in html and unpaid.out_trade_no in html
    html = text(c.get("/admin/payments?status=paid", headers={**HX, "HX-Target": "payments-table"}))
    assert payment.out_trade_no in html and unpaid.out_trade_no not in html and "<html" not in html
    assert unpaid.out_trade_no in text(c.get(f"/admin/payments?q={_unpaid_order.order_no}"))
    assert "没有符合条件的支付单" in text(c.get("/admin/payments?q=nothing"))
    # a forged notification (wrong key) and a tampered amount for the unpaid trade
    body, headers = sandbox_notification(unpaid.out_trade_no, unpaid.amount_fen, secret="forged")
    db.session.commit()
    client.post("/payments/notify/sandbox", data=body, headers=headers)
    pay_sandbox(unpaid, amount_fen=1)
    html = text(c.get(f"/admin/payments/{unpaid.out_trade_no}"))
    assert html.count('class="notification-row"') == 2
    assert "已拒绝（验签失败）" in html and "金额不符" in html and "✗" in html and "✓" in html
    assert "<details" in html and "&#34;amount_fen&#34;: 1," in html  # the tampered body, as received
    assert _unpaid_order.order_no in html
    html = text(c.get(f"/admin/payments/{payment.out_trade_no}"))
    assert "已入账" in html and order.order_no in html
    assert c.get("/admin/payments/NOPE").status_code == 404
    # nothing changed for the forged and tampered ones
    db.session.expire_all()
    assert db.session.get(Payment, unpaid.id).status == "pending"


def test_notification_log_outcome_filter(app, client, make_user, login, order_of, pay_sandbox):
    c, _ = admin_client(app, make_user, login)
    _order, payment = order_of()
    body, headers = sandbox_notification(payment.out_trade_no, payment.amount_fen, secret="forged")
    db.session.commit()
    client.post("/payments/notify/sandbox", data=body, headers=headers)
    html = text(c.get("/admin/payments/notifications"))
    assert html.count('class="notification-row"') == 2
    html = text(c.get("/admin/payments/notifications?outcome=rejected"))
    assert html.count('class="notification-row"') == 1 and "已拒绝（验签失败）" in html
    html = text(c.get("/admin/payments/notifications?outcome=applied",
                      headers={**HX, "HX-Target": "notifications-table"}))
    assert html.count('class="notification-row"') == 1 and "<html" not in html
    assert "没有符合条件的通知" in text(c.get("/admin/payments/notifications?outcome=refunded"))
    outcomes = set(db.session.scalars(sa.select(PaymentNotification.outcome)))
    assert outcomes == {"applied", "rejected"}


@pytest.mark.parametrize("path", ["/admin/orders", "/admin/payments"])
def test_lists_run_a_fixed_number_of_queries(app, make_user, login, make_merchant, order_of, count_queries, path):
    c, _ = admin_client(app, make_user, login)
    shop = make_merchant()
    order_of(merchant=shop)
    c.get(path)
    with count_queries() as one:
        c.get(path)
    for _ in range(4):
        order_of()
    with count_queries() as five:
        c.get(path)
    assert len(five) == len(one)


def test_order_settings_render_and_validate(app, make_user, login):
    c, _ = admin_client(app, make_user, login, "super")
    html = text(c.get("/admin/settings"))
    assert '<select class="form-select narrow-input ' in html and "下单减库存" in html and "付款减库存" in html
    assert "未付款订单自动取消" in html and "发货后自动确认收货" in html and "确认收货后可申请售后" in html
    form = {"sms_daily_limit_per_phone": "10", "sms_hourly_limit_per_ip": "30", "stock_deduction": "on_payment",
            "order_payment_timeout_minutes": "15", "auto_confirm_days": "7", "aftersale_window_days": "7",
            "product_review_required": "on"}
    assert c.post("/admin/settings", data=form).status_code == 302
    assert platform_settings.get("stock_deduction") == "on_payment"
    assert platform_settings.get("order_payment_timeout_minutes") == 15
    resp = c.post("/admin/settings", data={**form, "stock_deduction": "whenever"})
    assert resp.status_code == 422 and "请从列表中选择" in text(resp)
    resp = c.post("/admin/settings", data={**form, "stock_deduction": "on_order", "auto_confirm_days": "99"})
    assert resp.status_code == 422 and "请输入 1 到 60 之间的整数" in text(resp)
    db.session.expire_all()
    assert platform_settings.get("stock_deduction") == "on_payment" and platform_settings.get("auto_confirm_days") == 7
    assert admin_client(app, make_user, login, "operator")[0].get("/admin/settings").status_code == 403


def test_a_settings_post_without_a_field_keeps_its_value(app, make_user, login):
    c, _ = admin_client(app, make_user, login, "super")
    resp = c.post("/admin/settings", data={"sms_daily_limit_per_phone": "8", "sms_hourly_limit_per_ip": "30"})
    assert resp.status_code == 302
    assert platform_settings.get("stock_deduction") == "on_order" and platform_settings.get("auto_confirm_days") == 10
    assert platform_settings.get("sms_daily_limit_per_phone") == 8
