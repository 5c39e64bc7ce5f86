"""Admin product review (HTMX): the queue of products waiting for review, the list
of all products (status filter, search by title or shop), a product's detail with
images, SKUs, description and timeline, and the platform's decisions on it:
approve, reject with a reason, and the violation delist of an on-sale product.

Decisions work as plain form posts (redirect + flash) and with HTMX (the decision
panel is swapped, status badge and timeline follow out of band, the result comes
as a toast). A product the merchant withdrew meanwhile, or another admin already
handled, is refused with a clear message and nothing changes. Lists run a fixed
number of queries whatever the page size."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.catalog import policies, product_review, product_sale
from app.catalog.labels import PLATFORM, PRODUCT_LABELS, timeline_title
from app.catalog.models import Category, Product, ProductEvent, Sku
from app.catalog.product_access import get_for_review
from app.catalog.states import ProductStatus
from app.core.db import transaction
from app.core.errors import DomainError, StaleState, ValidationError
from app.core.htmx import is_htmx, with_toast
from app.core.pagination import paginate
from app.extensions import db
from app.merchants.models import Merchant
from app.web.admin.blueprint import bp
from app.web.auth import admin_required


@bp.app_context_processor
def product_review_sidebar():
    def admin_pending_products() -> int:
        return db.session.scalar(sa.select(sa.func.count(Product.id))
                                 .where(Product.status == ProductStatus.PENDING_REVIEW)) or 0

    return {"admin_pending_products": admin_pending_products}


def _actor():
    return current_user._get_current_object()


def _row_facts(items: list[Product]) -> dict:
    """Shops, categories and SKU price ranges of a page of products: three queries."""
    ids = [p.id for p in items]
    merchant_ids = {p.merchant_id for p in items}
    category_ids = {p.category_id for p in items}
    merchants = {m.id: m for m in db.session.scalars(sa.select(Merchant).where(Merchant.id.in_(merchant_ids)))} \
        if merchant_ids else {}
    category_names = dict(db.session.execute(sa.select(Category.id, Category.name)
                                             .where(Category.id.in_(category_ids))).all()) if category_ids else {}
    ranges = {}
    if ids:
        rows = db.session.execute(
            sa.select(Sku.product_id, sa.func.min(Sku.price_fen), sa.func.max(Sku.price_fen), sa.func.sum(Sku.stock))
            .where(Sku.product_id.in_(ids), Sku.active).group_by(Sku.product_id))
        ranges = {pid: (low, high, stock) for pid, low, high, stock in rows}
    return {"merchants": merchants, "category_names": category_names, "ranges": ranges}


def _list_actions(items: list[Product]) -> dict:
    """What the reviewer may do to each listed product (drawn as its button)."""
    return {"actions": {p.id: policies.actions_for(p, _actor(), policies.Side.PLATFORM) for p in items}}


def _list_stmt(status: str | None, q: str = "") -> sa.Select:
    stmt = sa.select(Product).options(selectinload(Product.images))
    if status:
        stmt = stmt.where(Product.status == status)
    if q:
        shop_ids = sa.select(Merchant.id).where(Merchant.name.icontains(q, autoescape=True))
        stmt = stmt.where(sa.or_(Product.title.icontains(q, autoescape=True), Product.merchant_id.in_(shop_ids)))
    return stmt


@bp.get("/products/review")
@admin_required("products.review")
def products_review():
    stmt = _list_stmt(ProductStatus.PENDING_REVIEW).order_by(Product.updated_at, Product.id)
    page = paginate(stmt, request.args.get("page", 1), request.args.get("per_page", 20))
    context = {"page": page, **_row_facts(page.items), **_list_actions(page.items)}
    if is_htmx() and not request.headers.get("HX-Boosted"):
        return render_template("admin/products/_queue_table.html", **context)
    return render_template("admin/products/review.html", **context)


@bp.get("/products")
@admin_required("products.review")
def products_all():
    status = request.args.get("status", "")
    status = status if status in tuple(ProductStatus) else ""
    q = request.args.get("q", "").strip()[:60]
    stmt = _list_stmt(status or None, q).order_by(Product.id.desc())
    page = paginate(stmt, request.args.get("page", 1), request.args.get("per_page", 20))
    filters = {"status": status, "q": q}
    context = {"page": page, "filters": filters, "status_choices": PRODUCT_LABELS.choices(PLATFORM),
               **_row_facts(page.items), **_list_actions(page.items)}
    if is_htmx() and not request.headers.get("HX-Boosted"):
        return render_template("admin/products/_list_table.html", **context)
    return render_template("admin/products/index.html", **context)


def _detail_context(product: Product, errors: dict | None = None, values: dict | None = None) -> dict:
    events = list(db.session.scalars(sa.select(ProductEvent).where(ProductEvent.product_id == product.id)
                                     .order_by(ProductEvent.created_at, ProductEvent.id)))
    actor_ids = {e.actor_id for e in events if e.actor_id}
    actors = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
    category_path = []
    category = db.session.get(Category, product.category_id)
    while category is not None:
        category_path.insert(0, category)
        category = db.session.get(Category, category.parent_id) if category.parent_id else None
    return {"product": product, "events": events, "actors": actors, "category_path": category_path,
            "merchant": db.session.get(Merchant, product.merchant_id),
            "skus": [s for s in product.skus if s.active], "event_title": timeline_title,
            "actions": policies.actions_for(product, _actor(), policies.Side.PLATFORM),
            "shop_actions": policies.actions_for(product, None, policies.Side.MERCHANT),
            "errors": errors or {}, "values": values or {}}


@bp.get("/products/<int:product_id>")
@admin_required("products.review")
def products_detail(product_id: int):
    return _detail_page(get_for_review(product_id))


def _detail_page(product: Product, errors: dict | None = None, values: dict | None = None, status: int = 200):
    return render_template("admin/products/detail.html", **_detail_context(product, errors, values)), status


def _decided(product_id: int, message: str, level: str = "success"):
    if is_htmx():
        db.session.expire_all()
        product = get_for_review(product_id)
        html = render_template("admin/products/_decision_swap.html", **_detail_context(product))
        return with_toast(html, message, level)
    flash(message, level)
    return redirect(url_for("admin.products_detail", product_id=product_id))


def _stale_message(product_id: int) -> str:
    """Why a decision found the product no longer where it expected it."""
    db.session.expire_all()
    product = get_for_review(product_id)
    if product.status == ProductStatus.DRAFT:
        return _("商家已撤回这件商品，无需审核")
    label = PRODUCT_LABELS.label(product.status, PLATFORM)
    return _("这件商品已被处理（当前状态：%(s)s），请查看处理记录", s=label)


def _decide(product_id: int, action, message: str, with_reason: bool):
    values = {"reason": request.form.get("reason", ""), "action": request.endpoint}
    try:
        with transaction():
            action()
    except StaleState:
        return _decided(product_id, _stale_message(product_id), "warning")
    except ValidationError as exc:
        product = get_for_review(product_id)
        if is_htmx():
            html = render_template("admin/products/_decision.html",
                                   **_detail_context(product, exc.fields or {"reason": exc.message}, values))
            return with_toast(html, exc.message, "danger")
        return _detail_page(product, exc.fields or {"reason": exc.message}, values, 422)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        return _decided(product_id, exc.message, "danger")
    return _decided(product_id, message)


@bp.post("/products/<int:product_id>/approve")
@admin_required("products.review")
def products_approve(product_id: int):
    get_for_review(product_id)
    return _decide(product_id, lambda: product_review.approve(_actor(), product_id),
                   _("已通过审核，商品已上架销售"), False)


@bp.post("/products/<int:product_id>/reject")
@admin_required("products.review")
def products_reject(product_id: int):
    get_for_review(product_id)
    reason = request.form.get("reason", "")
    return _decide(product_id, lambda: product_review.reject(_actor(), product_id, reason),
                   _("已驳回，商家会收到通知和原因"), True)


@bp.post("/products/<int:product_id>/delist")
@admin_required("products.review")
def products_violation_delist(product_id: int):
    get_for_review(product_id)
    reason = request.form.get("reason", "")
    return _decide(product_id, lambda: product_sale.violation_delist(_actor(), product_id, reason),
                   _("已违规下架，商家会收到通知和原因"), True)
