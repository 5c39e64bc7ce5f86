"""我的订单: the list by status tab, the order page with its timelines and next
actions (去支付, 取消订单, 确认收货, 评价), paying again, the payment result, and
the review form.

Every order is loaded scoped to the signed-in buyer (someone else's is a 404);
the actions call one service each and say why when it refuses.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.aftersales import applications as aftersale_applications
from app.aftersales import labels as aftersale_labels
from app.aftersales import queries as aftersale_queries
from app.core.clock import utcnow
from app.core.db import transaction
from app.core.errors import DomainError
from app.core.htmx import is_htmx
from app.orders import carriers, policies, queries, reviews, shipping
from app.orders import services as order_services
from app.orders.states import BUYER_TABS, REVIEW_MAX_IMAGES, OrderStatus
from app.payments import providers
from app.payments import services as payments
from app.payments.states import PaymentStatus
from app.web.forms import attach_errors
from app.web.list_filters import pick_tab
from app.web.shop.blueprint import bp
from app.web.shop.forms import ReviewForm
from app.web.shop.views_checkout import provider_choices, start_payment

PER_PAGE = 10

TAB_LABELS = {"all": _l("全部"), "pending_payment": _l("待付款"), "to_ship": _l("待发货"),
              "to_receive": _l("待收货"), "to_review": _l("待评价")}
# The status header's sentence on the order page.
STATUS_HINTS = {
    OrderStatus.PENDING_PAYMENT: _l("请在规定时间内付款，超时订单将自动取消"),
    OrderStatus.PAID: _l("商家正在备货，发货后可查看物流"),
    OrderStatus.SHIPPED: _l("商品已发出，收到后请确认收货"),
    OrderStatus.RECEIVED: _l("交易成功，欢迎评价"),
    OrderStatus.COMPLETED: _l("交易完成，感谢您的购买"),
    OrderStatus.CANCELLED: _l("订单已取消"),
    OrderStatus.CLOSED: _l("订单已关闭，款项已原路退回"),
}
def order_actions(order) -> tuple[str, ...]:
    """What the signed-in buyer may do to `order` now (the buttons a page draws)."""
    return policies.actions_for(order, policies.buyer(current_user.id))


def order_context() -> dict:
    return {"status_hints": STATUS_HINTS, "order_actions": order_actions, "carrier_name": carriers.name_for}


@bp.get("/orders")
@login_required
def orders():
    tab = pick_tab(request.args, "tab", BUYER_TABS, "all")
    with transaction():
        order_services.expire_for_buyer(current_user.id)
    page = queries.for_buyer(current_user.id, tab, request.args.get("page", 1), PER_PAGE)
    if is_htmx() and request.args.get("page"):
        return render_template("shop/orders/_order_page.html", page=page, tab=tab, **order_context())
    return render_template("shop/orders/index.html", page=page, tab=tab, tabs=BUYER_TABS, tab_labels=TAB_LABELS,
                           counts=queries.buyer_counts(current_user.id), **order_context())


@bp.get("/orders/<order_no>")
@login_required
def order_detail(order_no: str):
    with transaction():
        order_services.expire_for_buyer(current_user.id)
    order = order_services.for_buyer(current_user.id, order_no)
    events = shipping.events_for(order) if order.shipment else []
    requests = aftersale_queries.of_order(order.id)
    items = {item.id: item for item in order.items}
    whole = aftersale_applications.whole_refund_lines(order)
    whole_refund_fen = aftersale_applications.estimate_refund(order, [(items[i], q) for i, q in whole])[0] if whole else None
    return render_template("shop/orders/detail.html", order=order, timeline=order_services.timeline(order.id),
                           tracking=events, now=utcnow(), aftersale_kinds=aftersale_applications.may_apply_items(order),
                           aftersale_requests=requests, open_requests={a.id: a for a in requests},
                           whole_refund_fen=whole_refund_fen,
                           refund_reasons=aftersale_labels.REASON.choices(),
                           **order_context())


def _act(order_no: str, action, done: str):
    try:
        with transaction():
            action(current_user.id, order_no)
    except DomainError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "danger")
    else:
        flash(done, "success")
    return redirect(url_for("shop.order_detail", order_no=order_no))


@bp.post("/orders/<order_no>/cancel")
@login_required
def order_cancel(order_no: str):
    return _act(order_no, order_services.cancel_by_buyer, _("订单已取消"))


@bp.post("/orders/<order_no>/confirm")
@login_required
def order_confirm(order_no: str):
    return _act(order_no, order_services.confirm_receipt, _("已确认收货，欢迎评价"))


# --- paying (again) ---------------------------------------------------------------------------


@bp.route("/orders/<order_no>/pay", methods=["GET", "POST"])
@login_required
def order_pay(order_no: str):
    """去支付: choose a gateway for the order's payment (with any other unpaid orders
    of the same checkout: they are paid together)."""
    order = order_services.for_buyer(current_user.id, order_no)
    detail = url_for("shop.order_detail", order_no=order_no)
    if policies.Act.PAY not in order_actions(order):
        flash(policies.refusal(policies.Act.PAY, order.status)[1], "warning")
        return redirect(detail)
    payment = order.payment
    if request.method == "POST":
        provider = request.form.get("provider") or ""
        if provider not in providers.available():
            flash(_("请选择支付方式"), "danger")
            return redirect(url_for("shop.order_pay", order_no=order_no))
        return start_payment(payment.out_trade_no, provider, detail)
    together = [o for o in payment.orders if policies.Act.PAY in order_actions(o)]
    return render_template("shop/orders/pay.html", order=order, orders=together,
                           amount_fen=sum(o.amount_fen for o in together), providers=provider_choices(),
                           **order_context())


@bp.get("/pay/result/<out_trade_no>")
@login_required
def payment_result(out_trade_no: str):
    """Where the gateway (or the sandbox page) sends the buyer back: paid, still
    waiting for the gateway's word (polled every 2 s), or failed."""
    payment = payments.for_buyer(current_user.id, out_trade_no)
    if payment.status == PaymentStatus.PAID:
        state = "paid"
    elif payment.status == PaymentStatus.CLOSED:
        state = "closed"
    elif request.args.get("failed"):
        state = "failed"
    else:
        state = "waiting"
    orders = sorted(payment.orders, key=lambda o: o.id)
    context = {"payment": payment, "state": state, "orders": orders, "failed": request.args.get("failed"),
               # 重新支付 opens the first order that can still be paid
               "first_unpaid": next((o for o in orders if policies.Act.PAY in order_actions(o)), None)}
    if is_htmx():
        return render_template("shop/orders/_result_status.html", **context, **order_context())
    return render_template("shop/orders/result.html", **context, **order_context())


# --- reviews -----------------------------------------------------------------------------------


def _own_item(order_no: str, item_id: int):
    order = order_services.for_buyer(current_user.id, order_no)
    item = next((i for i in order.items if i.id == item_id), None)
    if item is None:
        abort(404)
    return order, item


@bp.route("/orders/<order_no>/items/<int:item_id>/review", methods=["GET", "POST"])
@login_required
def review_item(order_no: str, item_id: int):
    order, item = _own_item(order_no, item_id)
    detail = url_for("shop.order_detail", order_no=order_no)
    if item.reviewed:
        flash(_("该商品已评价"), "warning")
        return redirect(detail)
    if policies.Act.REVIEW not in order_actions(order):
        flash(policies.refusal(policies.Act.REVIEW, order.status)[1], "warning")
        return redirect(detail)
    form = ReviewForm(prefix="")
    if form.validate_on_submit():
        files = [f for f in request.files.getlist("images") if f and f.filename]
        if len(files) > REVIEW_MAX_IMAGES:
            form.images.errors = [_("最多上传 %(n)d 张图片", n=REVIEW_MAX_IMAGES)]
        else:
            try:
                with transaction():
                    reviews.create(current_user.id, item.id, form.rating.data, form.text.data,
                                   [f.read() for f in files], anonymous=form.anonymous.data)
            except DomainError as exc:
                if exc.status in (404, 409):
                    flash(exc.message, "danger")
                    return redirect(detail)
                if not attach_errors(form, exc, default_field="images"):
                    flash(exc.message, "danger")
            else:
                flash(_("评价成功，感谢您的分享"), "success")
                return redirect(detail)
    return render_template("shop/orders/review.html", order=order, item=item, form=form,
                           max_images=REVIEW_MAX_IMAGES), 422 if form.errors else 200
