"""Orders in the merchant console (订单管理): the list with status tabs (待发货
first), search and date filters (the table is swapped over HTMX), an order's
detail with its timeline and tracking, shipping (inline on the detail page and
on the list row, or a plain post), manual tracking events, and bulk shipping
from a CSV sheet.

Every order is loaded scoped to the current merchant (`services.for_merchant`),
so another shop's order number is a 404 on every URL here, and shipping it
changes nothing."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.aftersales import queries as aftersale_queries
from app.core.db import transaction
from app.core.errors import DomainError
from app.core.htmx import is_htmx, redirect_htmx, with_toast
from app.orders import carriers, policies, queries, shipping, shipping_csv
from app.orders import services as order_services
from app.orders.labels import ORDER as ORDER_LABELS
from app.orders.models import Order
from app.orders.queries import OrderFilters
from app.orders.states import MERCHANT_TABS, OrderStatus
from app.web.list_filters import parse_date
from app.web.merchant.blueprint import bp
from app.web.merchant.context import merchant_required

TRACKING_SOURCES = {"manual": _l("手动添加"), "system": _l("系统"), "kuaidi100": _l("快递100")}
Q_MAX = 60


def status_label(status: str | None) -> str:
    return ORDER_LABELS.label(status, policies.Audience.MERCHANT)


def image_url(item) -> str | None:
    """The order item's thumbnail as it was at order time (served by the shop's media route)."""
    key = item.image_key or ""
    if not key.startswith("products/"):
        return None
    return url_for("shop.product_image", product_id=item.product_id, name=key.rsplit("/", 1)[-1])


def order_actions(order: Order) -> tuple[str, ...]:
    """What the current shop member may do to `order` now (the buttons a page draws)."""
    return policies.actions_for(order, policies.staff(g.get("member")))


def order_helpers() -> dict:
    """Template helpers for order pages (both consoles; the admin console replaces `order_actions`)."""
    return {"order_actions": order_actions, "order_open_acts": lambda order: policies.table_acts(order.status),
            "order_held": policies.has_open_aftersale,
            "order_image_url": image_url, "carrier_name": carriers.name_for,
            "tracking_source": lambda s: str(TRACKING_SOURCES.get(s, s))}


def parse_filters(args, default_status: str | None) -> tuple[OrderFilters, dict, dict]:
    """The list filters from the query string: (filters, the values to echo back, errors).

    A bad date is named under its field and ignored, so the list still shows."""
    status = args.get("status", default_status or "")
    if status not in {s.value for s in OrderStatus}:
        status = "all" if status == "all" else (default_status or "all")
    q = (args.get("q") or "").strip()[:Q_MAX]
    date_from, error_from = parse_date(args.get("date_from"))
    date_to, error_to = parse_date(args.get("date_to"))
    errors = {k: v for k, v in {"date_from": error_from, "date_to": error_to}.items() if v}
    if date_from and date_to and date_from > date_to:
        errors["date_to"] = _("结束日期不能早于开始日期")
        date_to = None
    filters = OrderFilters(status=None if status == "all" else status, q=q, date_from=date_from, date_to=date_to)
    values = {"status": status, "q": q, "date_from": (args.get("date_from") or "").strip()[:10],
              "date_to": (args.get("date_to") or "").strip()[:10]}
    return filters, values, errors


def _args(values: dict) -> dict:
    return {k: v for k, v in values.items() if v}


def _tabs() -> list[tuple[str, str]]:
    return [(s.value, status_label(s)) for s in MERCHANT_TABS] + [("all", _("全部"))]


def _ship_form(order: Order, values: dict | None = None, errors: dict | None = None) -> dict:
    return {"order": order, "ship_values": values or {}, "ship_errors": errors or {},
            "carrier_choices": carriers.choices()}


@bp.app_context_processor
def orders_sidebar():
    def merchant_to_ship_count() -> int:
        merchant = g.get("merchant")
        return queries.merchant_counts(merchant.id).get(OrderStatus.PAID, 0) if merchant is not None else 0

    return {"merchant_to_ship_count": merchant_to_ship_count}


# --- the list -----------------------------------------------------------------------------

@bp.get("/orders")
@merchant_required()
def orders_list():
    filters, values, errors = parse_filters(request.args, OrderStatus.PAID)
    page = queries.for_merchant(g.merchant.id, filters, request.args.get("page", 1), request.args.get("per_page", 20))
    counts = queries.merchant_counts(g.merchant.id)
    counts["all"] = sum(counts.values())
    context = {"page": page, "values": values, "errors": errors, "args": _args(values), "counts": counts,
               "tabs": _tabs(), "carrier_choices": carriers.choices(),
               "to_ship_tab": values["status"] == OrderStatus.PAID, **order_helpers()}
    if is_htmx() and request.headers.get("HX-Target") == "orders-table":
        return render_template("merchant/orders/_table.html", **context)
    return render_template("merchant/orders/index.html", **context)


# --- the detail ---------------------------------------------------------------------------

def _order(order_no: str) -> Order:
    return order_services.for_merchant(g.merchant.id, order_no)  # NotFound (404) for any other shop's order


def _detail_context(order: Order, **extra) -> dict:
    events = order_services.timeline(order.id)
    return {"order": order, "events": events, "tracking": shipping.events_for(order),
            "aftersales": aftersale_queries.of_order(order.id),
            "carrier_choices": carriers.choices(), "ship_values": {}, "ship_errors": {}, "event_values": {},
            "event_errors": {}, **order_helpers(), **extra}


@bp.get("/orders/<order_no>")
@merchant_required()
def order_detail(order_no: str):
    return render_template("merchant/orders/detail.html", **_detail_context(_order(order_no)))


@bp.post("/orders/<order_no>/ship")
@merchant_required()
def order_ship(order_no: str):
    order = _order(order_no)
    values = {"carrier": (request.form.get("carrier") or "").strip()[:32],
              "tracking_no": (request.form.get("tracking_no") or "").strip()[:40]}
    from_list = request.form.get("from") == "list"
    try:
        with transaction():
            order_services.ship(current_user.id, g.merchant.id, order.order_no, values["carrier"],
                                values["tracking_no"])
    except DomainError as exc:
        if exc.status == 404:
            raise
        errors = dict(exc.fields or {}) or {"_": exc.message}
        order = _order(order_no)
        if is_htmx():
            template = "merchant/orders/_row.html" if from_list else "merchant/orders/_ship_form.html"
            html = render_template(template, from_list=from_list, ship_open=True, tab=request.form.get("tab", ""),
                                   **order_helpers(), **_ship_form(order, values, errors))
            return with_toast(html, exc.message, "danger")
        return render_template("merchant/orders/detail.html",
                               **_detail_context(order, ship_values=values, ship_errors=errors)), 422
    message = _("订单 %(no)s 已发货", no=order.order_no)
    if is_htmx() and from_list:
        order = _order(order_no)
        counts = queries.merchant_counts(g.merchant.id)
        counts["all"] = sum(counts.values())
        html = render_template("merchant/orders/_row_swap.html", counts=counts, tabs=_tabs(),
                               values={"status": request.form.get("tab") or "paid"}, args={}, from_list=True,
                               tab=request.form.get("tab", ""), **order_helpers(), **_ship_form(order))
        return with_toast(html, message)
    flash(message, "success")
    target = url_for("merchant.order_detail", order_no=order.order_no)
    return redirect_htmx(target) if is_htmx() else redirect(target)


@bp.post("/orders/<order_no>/tracking")
@merchant_required()
def order_tracking_event(order_no: str):
    order = _order(order_no)
    values = {"description": (request.form.get("description") or "").strip()[:shipping.DESCRIPTION_MAX],
              "location": (request.form.get("location") or "").strip()[:100]}
    errors: dict = {}
    try:
        with transaction():
            # shipping.add_manual_event takes no actor: the member's right to add one is checked here
            policies.require(order, policies.staff(g.member), policies.Act.ADD_TRACKING)
            shipping.add_manual_event(g.merchant.id, order.order_no, values["description"], values["location"])
    except DomainError as exc:
        if exc.status == 404:
            raise
        errors = dict(exc.fields or {}) or {"_": exc.message}
    order = _order(order_no)
    if errors:
        if is_htmx():
            html = render_template("merchant/orders/_tracking.html",
                                   **_detail_context(order, event_values=values, event_errors=errors))
            return with_toast(html, next(iter(errors.values())), "danger")
        return render_template("merchant/orders/detail.html",
                               **_detail_context(order, event_values=values, event_errors=errors)), 422
    message = _("物流动态已添加")
    if is_htmx():
        return with_toast(render_template("merchant/orders/_tracking.html", **_detail_context(order)), message)
    flash(message, "success")
    return redirect(url_for("merchant.order_detail", order_no=order.order_no))


# --- bulk shipping --------------------------------------------------------------------------

MAX_SHEET_BYTES = 1024 * 1024


@bp.route("/orders/ship-sheet", methods=["GET", "POST"])
@merchant_required()
def orders_ship_sheet():
    if request.method == "GET":
        return render_template("merchant/orders/ship_sheet.html", error=None, report=None,
                               max_rows=shipping_csv.MAX_ROWS)
    upload = request.files.get("file")
    data = upload.read(MAX_SHEET_BYTES + 1) if upload and upload.filename else b""
    error = None
    if not data:
        error = _("请选择要上传的 CSV 文件")
    elif len(data) > MAX_SHEET_BYTES:
        error = _("文件不能超过 1 MB")
    report = None
    if error is None:
        try:
            with transaction():
                report = shipping.ship_from_sheet(current_user.id, g.merchant.id, data)
        except DomainError as exc:
            if exc.status == 404:
                raise
            error = (exc.fields or {}).get("file") or exc.message
    if error:
        return render_template("merchant/orders/ship_sheet.html", error=error, report=None,
                               max_rows=shipping_csv.MAX_ROWS), 422
    by_line: dict[int, list[str]] = {}
    for line, message in report.errors:
        by_line.setdefault(line, []).append(message)
    return render_template("merchant/orders/ship_sheet.html", error=None, report=report,
                           error_lines=sorted(by_line.items()), filename=upload.filename,
                           max_rows=shipping_csv.MAX_ROWS)


@bp.get("/orders/ship-sheet/template.csv")
@merchant_required()
def orders_ship_sheet_template():
    filename = _("批量发货模板") + ".csv"
    response = Response(shipping_csv.template_csv(), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    # An ASCII fallback for old clients, the Chinese name per RFC 5987 for the rest.
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"ship-sheet-template.csv\"; filename*=UTF-8''{quote(filename)}")
    return response
