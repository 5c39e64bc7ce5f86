"""Products in the merchant console (商品管理): the list with status tabs and
filters, and the status actions (one product, or the same action on several).
The add/edit form is in `views_products_form`."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.catalog import categories, product_review, product_sale
from app.catalog.labels import PRODUCT_LABELS
from app.catalog.models import Category, Product, Sku
from app.catalog.policies import EDIT, Side, actions_for, actions_from
from app.catalog.states import STATUS_TABS, ProductStatus
from app.core.bounds import to_int
from app.core.db import transaction
from app.core.errors import DomainError
from app.core.htmx import is_htmx, with_toast
from app.core.pagination import paginate
from app.extensions import db
from app.web.merchant.blueprint import bp
from app.web.merchant.context import merchant_required
from app.web.merchant.product_form_page import category_options
from app.web.redirects import safe_next


def _user():
    return current_user._get_current_object()


def _tabs() -> list[tuple[str, str]]:
    return [(s, PRODUCT_LABELS.label(s)) for s in STATUS_TABS]


# --- the list ----------------------------------------------------------------------

def _low_stock_clause():
    return sa.exists().where(Sku.product_id == Product.id, Sku.active.is_(True), Sku.stock < Sku.low_stock_threshold)


def _filters(source) -> dict:
    status = source.get("status") or ProductStatus.ON_SALE
    category_id = to_int(source.get("category_id"), 1)
    return {"status": status if status in STATUS_TABS else ProductStatus.ON_SALE,
            "q": (source.get("q") or "").strip()[:60], "category_id": category_id,
            "low": source.get("low") == "1", "promo": source.get("promo") == "1"}


def _filtered(f: dict) -> sa.Select:
    stmt = sa.select(Product).where(Product.merchant_id == g.merchant.id)
    if f["q"]:
        stmt = stmt.where(Product.title.contains(f["q"], autoescape=True))
    if f["category_id"]:
        stmt = stmt.where(Product.category_id.in_(categories.leaf_ids_under(f["category_id"])))
    if f["low"]:
        stmt = stmt.where(_low_stock_clause())
    if f["promo"]:
        stmt = stmt.where(Product.on_promotion.is_(True))
    return stmt


def _counts(stmt: sa.Select) -> dict:
    return dict(db.session.execute(
        stmt.with_only_columns(Product.status, sa.func.count(Product.id)).group_by(Product.status)).all())


def _args(f: dict) -> dict:
    return {k: v for k, v in {"status": f["status"], "q": f["q"], "category_id": f["category_id"],
                              "low": "1" if f["low"] else None, "promo": "1" if f["promo"] else None}.items() if v}


@bp.get("/products")
@merchant_required()
def products_list():
    f = _filters(request.args)
    stmt = _filtered(f)
    counts = _counts(stmt)
    stmt = (stmt.where(Product.status == f["status"])
            .options(selectinload(Product.images), selectinload(Product.skus))
            .order_by(Product.updated_at.desc(), Product.id.desc()))
    page = paginate(stmt, request.args.get("page", 1), request.args.get("per_page", 20))
    names = dict(db.session.execute(sa.select(Category.id, Category.name).where(
        Category.id.in_({p.category_id for p in page.items} or {0}))).all()) if page.items else {}
    rows = [_row(p, names.get(p.category_id, "")) for p in page.items]
    bulk_action = next(a for a in actions_from(f["status"], Side.MERCHANT) if a != EDIT)
    return render_template("merchant/products/index.html", page=page, rows=rows, status=f["status"], counts=counts,
                           tabs=_tabs(), q=f["q"], category_id=f["category_id"],
                           low=f["low"], promo=f["promo"], args=_args(f), bulk_action=bulk_action,
                           resubmit=f["status"] == ProductStatus.REJECTED,
                           category_options=category_options(leaves_only=False))


def _row(product: Product, category_name: str) -> dict:
    active = [s for s in product.skus if s.active]
    prices = [s.price_fen for s in active]
    thumb = product.main_image.thumb_key.rsplit("/", 1)[-1] if product.main_image else None
    return {
        "p": product, "thumb": thumb, "category": category_name,
        "min_price": min(prices, default=0), "max_price": max(prices, default=0),
        "stock": sum(s.stock for s in active), "low": any(s.stock < s.low_stock_threshold for s in active),
        "sku_count": len(active), "actions": actions_for(product, None, Side.MERCHANT),
    }


# --- status actions ----------------------------------------------------------------

ACTIONS = {
    "submit": (product_review.submit, "已提交审核"),
    "withdraw": (product_review.withdraw, "已撤回，可以继续编辑"),
    "delist": (product_sale.delist, "已下架"),
    "relist": (product_sale.relist, "已重新上架"),
}


@bp.post("/products/<int:product_id>/<any(submit, withdraw, delist, relist):action>")
@merchant_required()
def product_action(product_id: int, action: str):
    service, done = ACTIONS[action]
    back = safe_next(url_for("merchant.products_list"))
    try:
        with transaction():
            product = service(_user(), g.merchant.id, product_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        message = exc.message
        if exc.fields:
            message = "；".join(str(v) for v in exc.fields.values())
        if is_htmx():
            response = with_toast("", message, "danger")
            response.headers["HX-Reswap"] = "none"  # the row stays as it is
            return response
        flash(message, "danger")
        return redirect(back)
    message = _(done)
    if action in ("submit", "relist") and product.status == ProductStatus.PENDING_REVIEW:
        message = _("已提交审核，审核通过后上架")
    elif action in ("submit", "relist") and product.status == ProductStatus.ON_SALE:
        message = _("已上架销售")
    if is_htmx() and request.form.get("row") == "1":
        # The product left this tab: drop its row, redraw the tab counts.
        f = _filters(dict(parse_qsl(urlsplit(back).query)))
        tabs = render_template("merchant/products/_tabs.html", tabs=_tabs(),
                               counts=_counts(_filtered(f)), status=f["status"], args=_args(f), oob=True)
        return with_toast(tabs, message)
    flash(message, "success")
    return redirect(back)


@bp.post("/products/bulk")
@merchant_required()
def products_bulk():
    """The same action on several products; each in its own transaction, refusals counted.
    Any id that is not this shop's product refuses the whole request (404)."""
    action = request.form.get("action", "")
    back = safe_next(url_for("merchant.products_list"))
    if action not in ACTIONS:
        flash(_("请选择批量操作"), "warning")
        return redirect(back)
    ids = sorted({i for i in (to_int(raw, 1) for raw in request.form.getlist("ids")) if i is not None})
    if not ids:
        flash(_("请先勾选商品"), "warning")
        return redirect(back)
    owned = set(db.session.scalars(sa.select(Product.id).where(Product.merchant_id == g.merchant.id,
                                                               Product.id.in_(ids))))
    if owned != set(ids):
        abort(404)
    service, _done = ACTIONS[action]
    done, refused = 0, []
    for product_id in ids:
        try:
            with transaction():
                service(_user(), g.merchant.id, product_id)
            done += 1
        except DomainError as exc:
            refused.append(exc.message)
    if refused:
        flash(_("%(d)d 件成功，%(f)d 件未处理：%(r)s", d=done, f=len(refused), r=refused[0]), "warning")
    else:
        flash(_("%(d)d 件商品已处理", d=done), "success")
    return redirect(back)
