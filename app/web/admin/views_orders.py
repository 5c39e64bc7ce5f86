"""Admin orders and payments (read-only back office pages): every order with
search and filters and its full detail (timeline, items, payment, shipment,
refunds); payments with their orders, refunds and every gateway notification
for the trade; and the notification log with its outcomes, so an operator sees
forged, tampered or mismatched deliveries. Lists run a fixed number of queries
whatever the page size."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, render_template, request
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.core.bounds import to_int
from app.core.htmx import is_htmx
from app.extensions import db
from app.merchants.models import Merchant
from app.orders import policies, queries, shipping
from app.orders import services as order_services
from app.orders.labels import ORDER as ORDER_LABELS
from app.orders.models import Order
from app.payments import queries as payment_queries
from app.payments.labels import OUTCOME_LABELS, PAYMENT_LABELS, provider_name
from app.payments.states import NotificationOutcome, PaymentStatus
from app.web.admin.blueprint import bp
from app.web.auth import admin_required
from app.web.merchant.views_orders import order_helpers, parse_filters


def payment_helpers() -> dict:
    return {"provider_label": provider_name, "outcome_choices": OUTCOME_LABELS.choices(),
            "payment_status_choices": PAYMENT_LABELS.choices()}


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


@bp.get("/orders/<order_no>")
@admin_required("orders.view")
def orders_detail(order_no: str):
    order = db.session.scalar(sa.select(Order).where(Order.order_no == order_no)
                              .options(selectinload(Order.items), selectinload(Order.shipment),
                                       selectinload(Order.buyer), selectinload(Order.merchant),
                                       selectinload(Order.payment)))
    if order is None:
        abort(404)
    refunds = payment_queries.refunds_of_order(order.id)
    return render_template("admin/orders/detail.html", order=order, events=order_services.timeline(order.id),
                           tracking=shipping.events_for(order), refunds=refunds,
                           **admin_order_helpers(), **payment_helpers())


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
    return render_template("admin/payments/detail.html", payment=payment, refunds=refunds, buyer=buyer,
                           notifications=notifications, orders_by_id=orders_by_id,
                           **payment_helpers(), **order_helpers())
