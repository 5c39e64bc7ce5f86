"""Admin 秒杀: the platform's own events (pick SKUs by search, price, stock, limit,
start and end; publish) and the shops' requests to review (approve, which carves the
stock, or reject with a reason). Plain form posts (redirect + flash); the SKU search
adds a row with HTMX. Rules live in app/flashsales/services.py."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.core.db import transaction
from app.core.errors import DomainError, NotFound, ValidationError
from app.core.htmx import is_htmx
from app.core.models import StateChange
from app.core.pagination import paginate
from app.extensions import db
from app.flashsales import policies, queries, services
from app.flashsales.labels import FLASH_SALE
from app.flashsales.states import FlashSaleStatus
from app.merchants.models import Merchant
from app.web import flash_sale_forms as forms
from app.web.admin.blueprint import bp
from app.web.auth import admin_required

PERMISSION = policies.PERMISSION
ACTS = {"publish": (services.publish, _l("活动已发布，活动库存已锁定")),
        "approve": (services.approve, _l("已通过，活动库存已锁定")), "cancel": (services.cancel, _l("活动已取消"))}


def _actor() -> policies.Actor:
    return policies.platform(current_user._get_current_object())


@bp.get("/flash-sales")
@admin_required(PERMISSION)
def flash_sales():
    status = request.args.get("status", "")
    status = status if status in tuple(FlashSaleStatus) else ""
    page = paginate(queries.list_stmt(status=status or None, platform_view=True), request.args.get("page", 1),
                    request.args.get("per_page", 20))
    shop_ids = {s.merchant_id for s in page.items if s.merchant_id}
    shops = dict(db.session.execute(sa.select(Merchant.id, Merchant.name).where(Merchant.id.in_(shop_ids))).all()) \
        if shop_ids else {}
    context = {"page": page, "filters": {"status": status}, "shops": shops,
               "status_choices": FLASH_SALE.choices(), "actor": _actor(), "actions_for": policies.actions_for}
    if is_htmx() and not request.headers.get("HX-Boosted"):
        return render_template("admin/flash_sales/_table.html", **context)
    return render_template("admin/flash_sales/index.html", **context)


def _form_page(values: dict, errors: dict | None = None, sale=None, status: int = 200):
    return render_template("admin/flash_sales/form.html", values=values, errors=errors or {}, sale=sale,
                           skus=forms.sku_facts(values)), status


@bp.route("/flash-sales/new", methods=["GET", "POST"])
@admin_required(PERMISSION)
def flash_sales_new():
    if request.method == "GET":
        return _form_page({"title": "", "starts_at": "", "ends_at": "", "rows": []})
    raw, errors, values = forms.parse(request.form)
    if errors:
        return _form_page(values, errors, status=422)
    try:
        with transaction():
            sale_id = services.create(_actor(), raw).id
    except ValidationError as exc:
        return _form_page(values, exc.fields or {"title": exc.message}, status=422)
    flash(_("活动已保存为草稿，确认无误后发布"), "success")
    return redirect(url_for("admin.flash_sales_detail", sale_id=sale_id))


@bp.route("/flash-sales/<int:sale_id>/edit", methods=["GET", "POST"])
@admin_required(PERMISSION)
def flash_sales_edit(sale_id: int):
    sale = _load(sale_id)
    if "edit" not in policies.actions_for(sale, _actor()):
        flash(_("该活动当前不能修改"), "warning")
        return redirect(url_for("admin.flash_sales_detail", sale_id=sale_id))
    if request.method == "GET":
        return _form_page(forms.values_of(sale), sale=sale)
    raw, errors, values = forms.parse(request.form)
    if errors:
        return _form_page(values, errors, sale=sale, status=422)
    try:
        with transaction():
            services.update(_actor(), sale_id, raw)
    except ValidationError as exc:
        return _form_page(values, exc.fields or {"title": exc.message}, sale=sale, status=422)
    except DomainError as exc:
        flash(exc.message, "danger")
    return redirect(url_for("admin.flash_sales_detail", sale_id=sale_id))


@bp.get("/flash-sales/skus")
@admin_required(PERMISSION)
def flash_sales_skus():
    """HTMX: SKUs matching the search, each with a button that adds its row to the form."""
    return render_template("components/_flash_sale_sku_results.html",
                           skus=forms.search_skus(request.args.get("q", ""), None),
                           row_url=url_for("admin.flash_sales_row"))


@bp.get("/flash-sales/row")
@admin_required(PERMISSION)
def flash_sales_row():
    """HTMX: one form row for the SKU picked."""
    sku_id = request.args.get("sku_id", "")
    values = {"rows": [{"sku_id": sku_id, "price": "", "stock": "", "per_buyer_limit": "1"}]}
    skus = forms.sku_facts(values)
    if not skus:
        abort(404)
    return render_template("components/_flash_sale_row.html", row=values["rows"][0], n=0, skus=skus, errors={})


def _load(sale_id: int):
    try:
        return services.get(sale_id, _actor())
    except NotFound:
        abort(404)


@bp.get("/flash-sales/<int:sale_id>")
@admin_required(PERMISSION)
def flash_sales_detail(sale_id: int):
    sale = _load(sale_id)
    events = list(db.session.scalars(sa.select(StateChange).where(
        StateChange.entity == "flash_sale", StateChange.entity_id == sale.id).order_by(StateChange.id)))
    shop = db.session.get(Merchant, sale.merchant_id) if sale.merchant_id else None
    return render_template("admin/flash_sales/detail.html", sale=sale, shop=shop, events=events,
                           actions=policies.actions_for(sale, _actor()), skus=forms.sku_facts(forms.values_of(sale)))


@bp.post("/flash-sales/<int:sale_id>/<act>")
@admin_required(PERMISSION)
def flash_sales_act(sale_id: int, act: str):
    if act not in (*ACTS, "reject"):
        abort(404)
    _load(sale_id)
    try:
        with transaction():
            if act == "reject":
                services.reject(_actor(), sale_id, request.form.get("reason", ""))
                message = _("已驳回")
            else:
                action, message = ACTS[act]
                action(_actor(), sale_id)
                message = str(message)
    except DomainError as exc:
        detail = "；".join(str(v) for v in (exc.fields or {}).values())
        flash(f"{exc.message}{('：' + detail) if detail else ''}", "danger")
    else:
        flash(message, "success")
    return redirect(url_for("admin.flash_sales_detail", sale_id=sale_id))
