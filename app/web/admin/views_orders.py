"""Admin orders and payments: every order with
search and filters and its full detail (timeline, items, payment, shipment,
refunds, its after-sale requests) with the platform's 取消并退款 (everything, or
chosen items and quantities, with a reason, confirmed: operators and super admins);
payments with their orders, refunds and every gateway notification for the trade;
and the notification log with its outcomes, so an operator sees forged, tampered or
mismatched deliveries. Lists run a fixed number of queries whatever the page size.

Finance records an abnormal refund (the gateway could not pay it back) as paid back
another way, with a note (已线下退款). Both writes swap their panel or row over HTMX
with a toast, and work as plain posts (redirect + flash)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.aftersales import applications as aftersale_applications
from app.aftersales import platform as aftersale_platform
from app.aftersales import queries as aftersale_queries
from app.core import money
from app.core.bounds import to_int
from app.core.db import transaction
from app.core.errors import DomainError
from app.core.htmx import is_htmx, redirect_htmx, with_toast
from app.extensions import db
from app.merchants.models import Merchant
from app.orders import policies, queries, shipping
from app.orders import services as order_services
from app.orders.labels import ORDER as ORDER_LABELS
from app.orders.models import Order
from app.payments import offline_refunds
from app.payments import policies as payment_policies
from app.payments import queries as payment_queries
from app.payments.labels import OUTCOME_LABELS, PAYMENT_LABELS, provider_name
from app.payments.models import Refund
from app.payments.states import NotificationOutcome, PaymentStatus
from app.web.admin.blueprint import bp
from app.web.auth import admin_required
from app.web.merchant.views_orders import order_helpers, parse_filters


def payment_helpers() -> dict:
    return {"provider_label": provider_name, "outcome_choices": OUTCOME_LABELS.choices(),
            "payment_status_choices": PAYMENT_LABELS.choices(),
            "refund_actions": lambda refund: payment_policies.actions_for(refund, current_user)}


def refund_context(refunds: list[Refund]) -> dict:
    """What the refunds partial shows besides the rows: offline settlements (who, the note)."""
    return {"refunds": refunds, "settlements": payment_queries.offline_settlements([r.id for r in refunds]),
            "refund_errors": {}, "refund_values": {}}


def admin_order_helpers() -> dict:
    """The consoles' order helpers, as the platform sees an order: its pages are read-only,
    so the policy offers an admin no action (no ship form, no tracking form)."""
    admin = policies.admin(current_user.id)
    return {**order_helpers(), "order_actions": lambda order: policies.actions_for(order, admin),
            "order_status_choices": ORDER_LABELS.choices()}


def _wants_table(target: str) -> bool:
    return is_htmx() and request.headers.get("HX-Target") == target


# --- orders -----------------------------------------------------------------------------------

@bp.get("/orders")
@admin_required("orders.view")
def orders():
    filters, values, errors = parse_filters(request.args, None)
    merchant_id = to_int(request.args.get("merchant_id"), 1)
    filters.merchant_id = merchant_id
    values["merchant_id"] = merchant_id or ""
    page = queries.for_admin(filters, request.args.get("page", 1), request.args.get("per_page", 30))
    merchants = db.session.execute(sa.select(Merchant.id, Merchant.name).order_by(Merchant.name)).all()
    args = {k: v for k, v in values.items() if v and not (k == "status" and v == "all")}
    context = {"page": page, "values": values, "errors": errors, "args": args, "merchants": merchants,
               **admin_order_helpers()}
    if _wants_table("orders-table"):
        return render_template("admin/orders/_table.html", **context)
    return render_template("admin/orders/index.html", **context)


def _order(order_no: str) -> Order:
    order = db.session.scalar(sa.select(Order).where(Order.order_no == order_no)
                              .options(selectinload(Order.items), selectinload(Order.shipment),
                                       selectinload(Order.buyer), selectinload(Order.merchant),
                                       selectinload(Order.payment))
                              .execution_options(populate_existing=True))
    if order is None:
        abort(404)
    return order


def _cancel_context(order: Order, errors: dict | None = None, values: dict | None = None) -> dict:
    """The 取消并退款 panel: whether the order can be refunded, what everything left
    would give back, and a refused form's errors and typed values."""
    refundable = aftersale_platform.refundable(order)
    left = [(item, item.refundable_quantity) for item in order.items if item.refundable_quantity]
    estimate = aftersale_applications.estimate_refund(order, left) if refundable else (0, 0)
    return {"refundable": refundable, "refund_estimate": estimate, "cancel_errors": errors or {},
            "cancel_values": values or {"scope": "all"}}


def _detail_page(order: Order, errors: dict | None = None, values: dict | None = None, status: int = 200):
    refunds = payment_queries.refunds_of_order(order.id)
    return render_template("admin/orders/detail.html", order=order, events=order_services.timeline(order.id),
                           tracking=shipping.events_for(order), **refund_context(refunds),
                           aftersales=aftersale_queries.of_order(order.id),
                           **_cancel_context(order, errors, values),
                           **admin_order_helpers(), **payment_helpers()), status


@bp.get("/orders/<order_no>")
@admin_required("orders.view")
def orders_detail(order_no: str):
    return _detail_page(_order(order_no))


def _refund_lines(order: Order, values: dict) -> tuple[list[tuple[int, int]] | None, dict]:
    """The form's (item id, units) lines, None for everything; errors by field."""
    if values["scope"] != "items":
        return None, {}
    lines, errors = [], {}
    for item in order.items:
        raw = (request.form.get(f"qty_{item.id}") or "").strip()
        values[f"qty_{item.id}"] = raw[:12]
        quantity = to_int(raw or "0", 0, item.refundable_quantity)
        if quantity is None:
            errors[f"qty_{item.id}"] = _("请填写 0 到 %(n)d 之间的整数", n=item.refundable_quantity)
        elif quantity:
            lines.append((item.id, quantity))
    return lines, errors


@bp.post("/orders/<order_no>/refund")
@admin_required("orders.refund")
def orders_refund(order_no: str):
    """The platform cancels and refunds a paid order, in full or per item (platform.cancel_and_refund)."""
    order = _order(order_no)
    values = {"scope": "items" if request.form.get("scope") == "items" else "all",
              "reason": request.form.get("reason", "")}
    lines, errors = _refund_lines(order, values)
    message = _("请检查退款数量") if errors else ""
    if not errors:
        try:
            with transaction():
                aftersale = aftersale_platform.cancel_and_refund(current_user._get_current_object(), order.order_no,
                                                                 lines, values["reason"])
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            message, errors = exc.message, dict(exc.fields) or {"form": exc.message}
    if errors:
        db.session.rollback()
        order = _order(order_no)
        if is_htmx():
            html = render_template("admin/orders/_cancel_refund_panel.html", order=order,
                                   **_cancel_context(order, errors, values))
            return with_toast(html, message, "danger")
        flash(message, "danger")
        return _detail_page(order, errors, values, 422)
    flash(_("已发起退款 %(amount)s（售后单 %(no)s），退款结果见下方退款记录",
            amount=money.format_yuan(aftersale.refund_fen), no=aftersale.aftersale_no), "success")
    url = url_for("admin.orders_detail", order_no=order_no)
    return redirect_htmx(url) if is_htmx() else redirect(url + "#order-refunds")


# --- payments ---------------------------------------------------------------------------------

@bp.get("/payments")
@admin_required("payments.view")
def payments():
    status = request.args.get("status", "")
    status = status if status in tuple(PaymentStatus) else ""
    q = (request.args.get("q") or "").strip()[:64]
    page = payment_queries.for_admin(q, status or None, request.args.get("page", 1),
                                     request.args.get("per_page", 30))
    values = {"status": status, "q": q}
    context = {"page": page, "values": values, "args": {k: v for k, v in values.items() if v},
               **payment_helpers(), **order_helpers()}
    if _wants_table("payments-table"):
        return render_template("admin/payments/_table.html", **context)
    return render_template("admin/payments/index.html", **context)


@bp.get("/payments/notifications")
@admin_required("payments.view")
def payment_notifications():
    outcome = request.args.get("outcome", "")
    outcome = outcome if outcome in tuple(NotificationOutcome) else ""
    q = (request.args.get("q") or "").strip()[:32]
    page = payment_queries.notifications_for_admin(outcome or None, q, request.args.get("page", 1),
                                                   request.args.get("per_page", 30))
    values = {"outcome": outcome, "q": q}
    context = {"page": page, "values": values, "args": {k: v for k, v in values.items() if v},
               **payment_helpers()}
    if _wants_table("notifications-table"):
        return render_template("admin/payments/_notifications_table.html", **context)
    return render_template("admin/payments/notifications.html", **context)


@bp.get("/payments/<out_trade_no>")
@admin_required("payments.view")
def payments_detail(out_trade_no: str):
    payment = payment_queries.detail_for_admin(out_trade_no)
    if payment is None:
        abort(404)
    refunds = payment_queries.refunds_of_payment(payment.id)
    notifications = payment_queries.notifications_of(payment)
    buyer = db.session.get(User, payment.buyer_id)
    orders_by_id = {o.id: o for o in payment.orders}
    return render_template("admin/payments/detail.html", payment=payment, buyer=buyer,
                           notifications=notifications, orders_by_id=orders_by_id, **refund_context(refunds),
                           **payment_helpers(), **order_helpers())


# --- refunds ------------------------------------------------------------------------------------

def _refund_row(refund_id: int, errors: dict | None = None, values: dict | None = None) -> str:
    db.session.expire_all()
    refund = db.session.get(Refund, refund_id)
    context = {**refund_context([refund]), "refund_errors": errors or {}, "refund_values": values or {}}
    return render_template("admin/payments/_refund_row.html", r=refund, **context, **payment_helpers())


@bp.post("/refunds/<int:refund_id>/settle-offline")
@admin_required("refunds.settle")
def refunds_settle_offline(refund_id: int):
    refund = db.session.get(Refund, refund_id)
    if refund is None:
        abort(404)
    back = url_for("admin.payments_detail", out_trade_no=refund.out_trade_no, _anchor="payment-refunds")
    note = (request.form.get("note") or "")[:500]
    try:
        with transaction():
            offline_refunds.settle_refund_offline(current_user._get_current_object(), refund_id, note)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        if is_htmx():
            values = {refund_id: {"note": note[:200]}}
            return with_toast(_refund_row(refund_id, {refund_id: exc.fields or {}}, values), exc.message, "danger")
        flash(exc.message, "danger")
        return redirect(back)
    message = _("已登记线下退款，退款单记为已退款")
    if is_htmx():
        return with_toast(_refund_row(refund_id), message)
    flash(message, "success")
    return redirect(back)
