"""Inventory (库存): every active SKU of the shop with inline set/adjust (HTMX row
swaps, plain posts as fallback), each SKU's movement history, and the low-stock
alerts list. Another shop's SKU id is a 404."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.catalog import product_access as products
from app.catalog.models import Product, Sku
from app.core.bounds import MAX_INT, WHOLE_NUMBER, to_int
from app.core.db import transaction
from app.core.errors import DomainError
from app.core.htmx import is_htmx, with_toast
from app.core.pagination import paginate
from app.extensions import db
from app.inventory import queries as inventory_queries
from app.inventory import services
from app.inventory.states import MovementReason
from app.web.merchant.blueprint import bp
from app.web.merchant.context import merchant_required
from app.web.redirects import safe_referrer

REASON_LABELS = {
    MovementReason.INITIAL: "初始库存", MovementReason.MANUAL: "手动调整", MovementReason.ORDER_RESERVE: "下单占用",
    MovementReason.ORDER_RELEASE: "订单取消释放", MovementReason.PAYMENT_DEDUCT: "付款扣减",
    MovementReason.RETURN_RESTOCK: "退货入库", MovementReason.EXCHANGE_OUT: "换货出库",
    MovementReason.API_SYNC: "API 同步", MovementReason.FLASH_SALE_HOLD: "秒杀活动锁定",
    MovementReason.FLASH_SALE_RELEASE: "秒杀活动释放",
}


def reason_label(reason: str) -> str:
    return _(REASON_LABELS.get(reason, reason))


def _sku(sku_id: int) -> Sku:
    try:
        return products.get_sku_for_merchant(g.merchant.id, sku_id)
    except DomainError:
        abort(404)


@bp.get("/inventory")
@merchant_required()
def inventory():
    flt = request.args.get("filter", "")
    q = (request.args.get("q") or "").strip()[:60]
    stmt = (sa.select(Sku, Product.title).join(Product, Sku.product_id == Product.id)
            .where(Product.merchant_id == g.merchant.id, Sku.active.is_(True)))
    if q:
        stmt = stmt.where(sa.or_(Product.title.contains(q, autoescape=True), Sku.code.contains(q, autoescape=True)))
    if flt == "low":
        stmt = stmt.where(Sku.stock < Sku.low_stock_threshold)
    elif flt == "soldout":
        stmt = stmt.where(Sku.stock == 0)
    else:
        flt = ""
    stmt = stmt.order_by(Product.id.desc(), Sku.id)
    page = paginate(stmt, request.args.get("page", 1), request.args.get("per_page", 30), scalars=False)
    args = {k: v for k, v in {"filter": flt, "q": q}.items() if v}
    return render_template("merchant/inventory/index.html", page=page, rows=page.items, flt=flt, q=q, args=args)


@bp.post("/inventory/<int:sku_id>/stock")
@merchant_required()
def inventory_stock(sku_id: int):
    sku = _sku(sku_id)
    mode = request.form.get("mode", "set")
    raw = (request.form.get("quantity") or "").strip()
    note = (request.form.get("note") or "").strip()
    expected = request.form.get("expected_stock", type=int)  # only compared, never stored
    error = None
    quantity = to_int(raw)
    if quantity is None:
        error = _("库存不能超过 %(n)d", n=MAX_INT) if WHOLE_NUMBER.fullmatch(raw) else _("请输入整数")
    if error is None and mode == "set" and quantity < 0:
        error = _("库存不能小于 0")
    if error is None and mode == "adjust" and not note:
        error = _("请填写调整原因")
    if error is None:
        try:
            with transaction():
                if mode == "adjust":
                    stock = services.adjust(sku.id, quantity, current_user.id, note)
                else:
                    stock = services.set_stock(sku.id, quantity, current_user.id, note or _("盘点"), expected=expected)
        except DomainError as exc:
            if exc.status == 404:
                raise
            error = exc.message
            if exc.code == "out_of_stock":
                error = _("库存不足，当前只有 %(n)d 件，不能减少这么多", n=db.session.get(Sku, sku.id).stock)
    db.session.expire_all()
    sku = db.session.get(Sku, sku_id)
    title = db.session.scalar(sa.select(Product.title).where(Product.id == sku.product_id))
    if error:
        if is_htmx():
            html = render_template("merchant/inventory/_row.html", sku=sku, title=title, error=error,
                                   form={"mode": mode, "quantity": raw, "note": note})
            return with_toast(html, error, "danger")
        flash(error, "danger")
        return redirect(safe_referrer(url_for("merchant.inventory")))
    message = _("库存已更新为 %(n)d", n=stock)
    if is_htmx():
        return with_toast(render_template("merchant/inventory/_row.html", sku=sku, title=title, error=None, form={}),
                          message)
    flash(message, "success")
    return redirect(safe_referrer(url_for("merchant.inventory")))


@bp.get("/inventory/<int:sku_id>/history")
@merchant_required()
def inventory_history(sku_id: int):
    sku = _sku(sku_id)
    movements = inventory_queries.history(sku.id, limit=50)
    context = {"sku": sku, "movements": movements, "reason_label": reason_label,
               "title": db.session.scalar(sa.select(Product.title).where(Product.id == sku.product_id))}
    if is_htmx():
        return render_template("merchant/inventory/_history.html", **context)
    return render_template("merchant/inventory/history.html", **context)


@bp.get("/inventory/alerts")
@merchant_required()
def inventory_alerts():
    items = inventory_queries.alerts_for(g.merchant.id, limit=100)
    sku_ids = {a.sku_id for a in items}
    skus = {}
    if sku_ids:
        for sku, title, product_id in db.session.execute(
                sa.select(Sku, Product.title, Product.id).join(Product, Sku.product_id == Product.id)
                .where(Sku.id.in_(sku_ids))):
            skus[sku.id] = {"sku": sku, "title": title, "product_id": product_id}
    return render_template("merchant/inventory/alerts.html", alerts=items, skus=skus)
