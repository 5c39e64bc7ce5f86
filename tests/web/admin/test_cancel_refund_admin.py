"""The platform's 取消并退款 on the admin order page, over HTTP: who may (super admins
and operators; finance reads the page without the panel; shoppers, shops and strangers
are refused), everything or chosen items with money, stock and order status right, an
item held by an open request refused, and bad input answered with nothing changed."""
from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import User
from app.aftersales.models import AfterSale
from app.catalog.models import Sku
from app.extensions import db
from app.inventory.models import StockMovement
from app.orders.models import Order
from app.payments.models import Refund
from tests.aftersales.conftest import apply, owner_of, receive, ship
from tests.web.helpers import text, toast

HX = {"HX-Request": "true"}


def admin_client(app, make_user, login, role="operator"):
    admin = make_user(admin_role=role)
    return login(admin, on=app.test_client()), admin


def order_of(order) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order.id)


def stock_of(sku_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Sku, sku_id).stock


def unchanged(order) -> bool:
    fresh = order_of(order)
    return (fresh.refunded_fen == 0 and all(item.refunded_quantity == 0 for item in fresh.items)
            and db.session.scalar(sa.select(sa.func.count(Refund.id)).where(Refund.order_id == order.id)) == 0)


def test_who_sees_the_panel_and_who_may_refund(app, client, make_user, login, bought):
    order = bought(quantity=1)
    page = f"/admin/orders/{order.order_no}"
    url = f"/admin/orders/{order.order_no}/refund"
    form = {"scope": "all", "reason": "商家无法发货"}
    for role in ("super", "operator"):
        c, _ = admin_client(app, make_user, login, role)
        html = text(c.get(page))
        assert 'id="order-refund"' in html and 'name="scope"' in html and 'href="#order-refund"' in html, role
        assert 'alert-danger' not in html and "预计 ¥99.00" in html
    finance, _ = admin_client(app, make_user, login, "finance")
    html = text(finance.get(page))
    assert order.order_no in html and 'id="order-refund"' not in html
    assert finance.post(url, data=form).status_code == 403
    for someone in (make_user(), db.session.get(User, owner_of(order).user_id), db.session.get(User, order.buyer_id)):
        assert login(someone, on=app.test_client()).post(url, data=form).status_code == 403
    assert client.post(url, data=form).status_code == 302  # anonymous: to the sign-in page
    assert unchanged(order) and order_of(order).status == "paid"
    c, _ = admin_client(app, make_user, login)
    assert c.post("/admin/orders/NOPE/refund", data=form).status_code == 404


def test_everything_of_an_unshipped_order_with_its_shipping(app, make_user, login, bought, run_jobs):
    order = bought(quantity=2, shipping_fen=800)
    sku_id = order.items[0].sku_id
    assert stock_of(sku_id) == 8
    c, admin = admin_client(app, make_user, login)
    resp = c.post(f"/admin/orders/{order.order_no}/refund", data={"scope": "all", "reason": "商家无法发货"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("#order-refunds")
    closed = order_of(order)
    assert closed.status == "closed" and closed.refunded_fen == 2 * 9900 + 800 == closed.amount_fen
    assert closed.items[0].refunded_quantity == 2 and stock_of(sku_id) == 10
    aftersale = db.session.scalar(sa.select(AfterSale).where(AfterSale.order_id == order.id))
    assert aftersale.kind == "refund_only" and aftersale.reason_text == "商家无法发货"
    refund = db.session.scalar(sa.select(Refund).where(Refund.order_id == order.id))
    assert refund.amount_fen == 2 * 9900 + 800 and refund.aftersale_id == aftersale.id
    run_jobs()
    html = text(c.get(f"/admin/orders/{order.order_no}"))
    assert "已退款" in html and refund.out_refund_no in html  # the refund and its status
    assert f'href="/admin/disputes/{aftersale.aftersale_no}"' in html  # the request it made
    assert 'id="order-refund"' not in html  # nothing left to refund
    assert f"已发起退款 ¥{(2 * 9900 + 800) / 100:.2f}" in html


def test_chosen_items_and_units_of_a_received_order(app, make_user, login, bought, run_jobs):
    order = receive(ship(bought(quantity=3, products=2)))
    first, second = order.items
    stocks = (stock_of(first.sku_id), stock_of(second.sku_id))
    c, _ = admin_client(app, make_user, login, "super")
    resp = c.post(f"/admin/orders/{order.order_no}/refund", headers=HX,
                  data={"scope": "items", f"qty_{first.id}": "2", f"qty_{second.id}": "", "reason": "质量问题平台先行赔付"})
    assert resp.headers["HX-Redirect"] == f"/admin/orders/{order.order_no}"
    after = order_of(order)
    assert after.status == "received" and after.refunded_fen == 2 * 9900
    assert [item.refunded_quantity for item in after.items] == [2, 0]
    assert (stock_of(first.sku_id), stock_of(second.sku_id)) == stocks  # the goods stay with the buyer
    run_jobs()
    html = text(c.get(f"/admin/orders/{order.order_no}"))
    assert "已退 2 件" in html and 'id="order-refund"' in html  # the rest may still be refunded
    assert 'max="1"' in html and 'max="3"' in html


def test_part_of_an_unshipped_order_goes_back_on_the_shelf(app, make_user, login, bought):
    order = bought(quantity=3, shipping_fen=600)
    c, _ = admin_client(app, make_user, login)
    item = order.items[0]
    c.post(f"/admin/orders/{order.order_no}/refund",
           data={"scope": "items", f"qty_{item.id}": "1", "reason": "缺货一件"})
    after = order_of(order)
    assert after.status == "paid" and after.refunded_fen == 9900 and stock_of(item.sku_id) == 8
    movement = db.session.scalar(sa.select(StockMovement).where(StockMovement.reason == "order_release",
                                                                 StockMovement.sku_id == item.sku_id))
    assert movement.delta == 1


def test_an_item_held_by_an_open_request_is_refused(app, make_user, login, bought):
    order = receive(ship(bought(quantity=2, products=2)))
    held, free = order.items
    request = apply(order, kind="return_refund", quantity=1, item=0)
    c, _ = admin_client(app, make_user, login)
    html = text(c.get(f"/admin/orders/{order.order_no}"))
    assert "有进行中的售后申请，请在售后中处理" in html and f'href="/admin/disputes/{request.aftersale_no}"' in html
    for form in ({"scope": "all", "reason": "平台取消"},
                 {"scope": "items", f"qty_{held.id}": "1", "reason": "平台取消"}):
        resp = c.post(f"/admin/orders/{order.order_no}/refund", data=form)
        assert resp.status_code == 422 and "有进行中的售后申请" in text(resp)
    assert unchanged(order)
    # the other item may still go
    c.post(f"/admin/orders/{order.order_no}/refund", data={"scope": "items", f"qty_{free.id}": "2", "reason": "平台取消"})
    assert [item.refunded_quantity for item in order_of(order).items] == [0, 2]


def test_bad_input_says_why_and_changes_nothing(app, make_user, login, bought):
    order = bought(quantity=2)
    item = order.items[0]
    c, _ = admin_client(app, make_user, login)
    url = f"/admin/orders/{order.order_no}/refund"
    resp = c.post(url, data={"scope": "all", "reason": " "})
    assert resp.status_code == 422 and "请填写退款原因（2–100 字）" in text(resp)
    resp = c.post(url, data={"scope": "all", "reason": "长" * 101})
    assert resp.status_code == 422 and "请填写退款原因" in text(resp)
    resp = c.post(url, data={"scope": "items", f"qty_{item.id}": "3", "reason": "退三件"})
    assert resp.status_code == 422 and "请填写 0 到 2 之间的整数" in text(resp) and 'value="3"' in text(resp)
    for bad in ("abc", "-1", "1.5", "99999999999999999999"):
        resp = c.post(url, data={"scope": "items", f"qty_{item.id}": bad, "reason": "数量不对"})
        assert resp.status_code == 422 and "请填写 0 到 2 之间的整数" in text(resp), bad
    resp = c.post(url, data={"scope": "items", f"qty_{item.id}": "0", "reason": "什么都没选"})
    assert resp.status_code == 422 and "请选择要退款的商品" in text(resp) and "什么都没选" in text(resp)
    resp = c.post(url, headers=HX, data={"scope": "items", f"qty_{item.id}": "x", "reason": "数量不对"})
    assert toast(resp)["level"] == "danger" and "<html" not in text(resp)
    assert text(resp).lstrip().startswith('<section class="card border-0 shadow-sm mb-3 refund-panel" id="order-refund">')
    assert unchanged(order) and order_of(order).status == "paid"
    assert db.session.scalar(sa.select(sa.func.count(AfterSale.id))) == 0
