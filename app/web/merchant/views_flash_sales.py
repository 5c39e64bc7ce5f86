"""The shop's 秒杀 requests: its own events of its own SKUs, made and edited while
draft or rejected, submitted for the platform's review, cancelled while not over.
The shop's owner only (the stock it locks is the shop's), as for settings and staff. Another shop's event is
a 404. Rules live in app/flashsales/services.py."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.core.db import transaction
from app.core.errors import DomainError, NotFound, ValidationError
from app.core.models import StateChange
from app.core.pagination import paginate
from app.extensions import db
from app.flashsales import policies, queries, services
from app.web import flash_sale_forms as forms
from app.web.merchant.blueprint import bp
from app.web.merchant.context import merchant_required

ACTS = {"submit": (services.submit, _l("已提交平台审核")), "cancel": (services.cancel, _l("活动已取消"))}


def _actor() -> policies.Actor:
    return policies.shop(current_user.id, g.merchant.id)


def _load(sale_id: int):
    try:
        return services.get(sale_id, _actor())
    except NotFound:
        abort(404)


@bp.get("/flash-sales")
@merchant_required(owner_only=True)
def flash_sales():
    page = paginate(queries.list_stmt(merchant_id=g.merchant.id), request.args.get("page", 1),
                    request.args.get("per_page", 20))
    return render_template("merchant/flash_sales/index.html", page=page)


def _form_page(values: dict, errors: dict | None = None, sale=None, status: int = 200):
    return render_template("merchant/flash_sales/form.html", values=values, errors=errors or {}, sale=sale,
                           skus=forms.sku_facts(values)), status


def _save(sale=None):
    raw, errors, values = forms.parse(request.form)
    if errors:
        return _form_page(values, errors, sale=sale, status=422)
    try:
        with transaction():
            sale_id = services.update(_actor(), sale.id, raw).id if sale else services.create(_actor(), raw).id
    except ValidationError as exc:
        return _form_page(values, exc.fields or {"title": exc.message}, sale=sale, status=422)
    except DomainError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("merchant.flash_sales"))
    flash(_("已保存，提交审核后由平台安排"), "success")
    return redirect(url_for("merchant.flash_sales_detail", sale_id=sale_id))


@bp.route("/flash-sales/new", methods=["GET", "POST"])
@merchant_required(owner_only=True)
def flash_sales_new():
    if request.method == "GET":
        return _form_page({"title": "", "starts_at": "", "ends_at": "", "rows": []})
    return _save()


@bp.route("/flash-sales/<int:sale_id>/edit", methods=["GET", "POST"])
@merchant_required(owner_only=True)
def flash_sales_edit(sale_id: int):
    sale = _load(sale_id)
    if "edit" not in policies.actions_for(sale, _actor()):
        flash(_("该活动当前不能修改"), "warning")
        return redirect(url_for("merchant.flash_sales_detail", sale_id=sale_id))
    if request.method == "GET":
        return _form_page(forms.values_of(sale), sale=sale)
    return _save(sale)


@bp.get("/flash-sales/skus")
@merchant_required(owner_only=True)
def flash_sales_skus():
    return render_template("components/_flash_sale_sku_results.html",
                           skus=forms.search_skus(request.args.get("q", ""), g.merchant.id),
                           row_url=url_for("merchant.flash_sales_row"))


@bp.get("/flash-sales/row")
@merchant_required(owner_only=True)
def flash_sales_row():
    sku_id = request.args.get("sku_id", "")
    values = {"rows": [{"sku_id": sku_id, "price": "", "stock": "", "per_buyer_limit": "1"}]}
    skus = forms.sku_facts(values)
    if not skus or next(iter(skus.values())).product.merchant_id != g.merchant.id:
        abort(404)
    return render_template("components/_flash_sale_row.html", row=values["rows"][0], n=0, skus=skus, errors={})


@bp.get("/flash-sales/<int:sale_id>")
@merchant_required(owner_only=True)
def flash_sales_detail(sale_id: int):
    sale = _load(sale_id)
    events = list(db.session.scalars(sa.select(StateChange).where(
        StateChange.entity == "flash_sale", StateChange.entity_id == sale.id).order_by(StateChange.id)))
    return render_template("merchant/flash_sales/detail.html", sale=sale, events=events,
                           actions=policies.actions_for(sale, _actor()), skus=forms.sku_facts(forms.values_of(sale)))


@bp.post("/flash-sales/<int:sale_id>/<act>")
@merchant_required(owner_only=True)
def flash_sales_act(sale_id: int, act: str):
    if act not in ACTS:
        abort(404)
    _load(sale_id)
    action, message = ACTS[act]
    try:
        with transaction():
            action(_actor(), sale_id)
    except DomainError as exc:
        flash(exc.message, "danger")
    else:
        flash(str(message), "success")
    return redirect(url_for("merchant.flash_sales_detail", sale_id=sale_id))
