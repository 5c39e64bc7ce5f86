"""The storefront catalogue: search with filters, sort and infinite scroll, and the
product page. Only visible products (app.catalog.queries) are listed or shown; an
off-sale product or a closed shop answers with a page that says so (404)."""
from __future__ import annotations

import uuid
from datetime import datetime
from types import SimpleNamespace

import sqlalchemy as sa
from flask import g, render_template, request, send_file
from flask_babel import gettext as _
from flask_login import current_user

from app.analytics import rule_queries
from app.catalog import queries
from app.catalog.errors import CatalogError
from app.catalog.models import Product
from app.catalog.queries import SORTS, ProductFilters
from app.core import page_cache, storage
from app.core.bounds import to_int
from app.core.clock import utcnow
from app.core.errors import NotFound
from app.core.htmx import is_htmx
from app.core.money import InvalidAmount, yuan_to_fen
from app.distribution import commissions
from app.extensions import db
from app.flashsales import queries as flash_queries
from app.merchants.models import Merchant
from app.orders import reviews
from app.orders.models import OrderItem, Review
from app.web.shop import full_pages
from app.web.shop.blueprint import bp
from app.web.shop.views_home import category_tree
from app.web.shop.views_shops import logo_name
from app.web.shop.views_tracking import record_search

PER_PAGE = 20


def _yuan(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return yuan_to_fen(raw)
    except InvalidAmount:
        return None


def _int(raw: str | None) -> int | None:
    return to_int(raw, 1)


def filters_from_args(args) -> ProductFilters:
    sort = args.get("sort") or "default"
    return ProductFilters(
        q=(args.get("q") or "").strip()[:50],
        category_id=_int(args.get("category_id")),
        min_price_fen=_yuan(args.get("min_price")),
        max_price_fen=_yuan(args.get("max_price")),
        promotion=args.get("promotion") in ("1", "true", "on"),
        sort=sort if sort in SORTS else "sales",
    )


# Search result pages are the same for everyone with the same arguments; changes made
# through the services invalidate them at once, the timeout bounds sales counts.
SEARCH_TIMEOUT_SECONDS = 60
SEARCH_ARGS = ("q", "category_id", "min_price", "max_price", "promotion", "sort")


def _render_search(filters: ProductFilters, args: dict, scrolling: bool) -> tuple[dict, datetime | None]:
    expires_at = queries.next_promotion_change()
    if scrolling:  # the next cards only: whether more follow, not how many
        more = queries.shelf(filters, request.args.get("page", 1), PER_PAGE)
        html = render_template("shop/catalog/_grid_page.html", page=more, next_url_args=args,
                               endpoint="shop.search", endpoint_kwargs={})
        return {"html": html}, expires_at
    page = queries.search(filters, request.args.get("page", 1), PER_PAGE, count_up_to=queries.COUNT_UP_TO)
    tree = category_tree()
    current_category = None
    if filters.category_id:
        current_category = next((c for c in _walk(tree) if c["id"] == filters.category_id), None)
    html = render_template(
        "shop/catalog/_search_results.html", page=page, filters=filters, args=args, tree=tree,
        sort=request.args.get("sort") or "default", current_category=current_category,
        min_price=request.args.get("min_price", ""), max_price=request.args.get("max_price", ""))
    title = filters.q or (current_category["name"] if current_category else None)
    return {"html": html, "total": page.total, "title": title}, expires_at


@bp.get("/search")
def search():
    filters = filters_from_args(request.args)
    # Only the arguments the page reads are carried in its links and its cache key, so
    # made-up ones (?utm_x=...) neither multiply the cached copies nor travel on.
    args = {k: v for k, v in request.args.items() if k in SEARCH_ARGS and v}
    scrolling = bool(is_htmx() and request.args.get("page"))
    result = page_cache.fragment("search", lambda: _render_search(filters, args, scrolling),
                                 timeout=SEARCH_TIMEOUT_SECONDS,
                                 vary=(scrolling, sorted(args.items()), request.args.get("page", "1")))
    if scrolling:
        return result["html"]
    html = render_template("shop/catalog/search.html", results_html=result["html"], title=result["title"])
    # Recorded once the page is rendered, so its commit expires nothing the page still reads;
    # a stored copy of the page records it too (app/web/shop/full_pages.py).
    if filters.q and str(request.args.get("page", "1")) == "1":
        g.full_page_search = (filters.q, result["total"])
        record_search(filters.q, result["total"])
    return html


def _walk(nodes):
    for node in nodes:
        yield node
        yield from _walk(node["children"])


# The product body is invalidated by every change made through the services (its own
# generation, app.core.page_cache); the timeout bounds what nothing announces: the stock
# counts shown between in stock and sold out, sales, the latest reviews.
PRODUCT_TIMEOUT_SECONDS = 120
# A product page with a 秒杀 block shows its progress: a process copy of it lives at most this long.
LIVE_COPY_SECONDS = 1
LIVE = "<!--live-->"


def _render_product_body(product_id: int) -> tuple[dict, datetime | None]:
    """The product page's shared body (raises NotFound for a product not on view, which is
    never cached) with the facts the per-visitor parts need."""
    product = queries.visible_product(product_id)
    merchant = db.session.get(Merchant, product.merchant_id)
    now = utcnow()
    promo_live = product.promotion_live(now)
    sku_rows = [{
        "id": s.id, "text": s.spec_text or "默认", "price_fen": s.price_fen,
        "promotion_price_fen": s.promotion_price_fen if promo_live and s.promotion_price_fen else None,
        "stock": s.stock,
    } for s in queries.active_skus(product)]
    total_stock = sum(r["stock"] for r in sku_rows)
    html = render_template("shop/catalog/_product_body.html", live=LIVE, product=product, merchant=merchant,
                           logo=logo_name(merchant), skus=sku_rows, promo_live=promo_live, total_stock=total_stock,
                           rating=reviews.summary(product.id), latest_reviews=reviews.for_product(product.id, 1, 3).items,
                           review_name=reviews.display_name)
    # A promotion starting or ending changes the price shown: the body is kept no longer.
    boundaries = [t for t in (product.promotion_starts_at, product.promotion_ends_at)
                  if product.on_promotion and t and t > now]
    parts = html.split(LIVE)
    assert len(parts) == 6, "the product body marks five places for the per-visitor parts"
    return {"parts": parts, "skus": sku_rows, "total_stock": total_stock, "title": product.title,
            "merchant_id": merchant.id}, min(boundaries, default=None)


def _render_together(product_id: int) -> tuple[str, datetime | None]:
    together = rule_queries.bought_together(product_id)
    return render_template("shop/catalog/_bought_together.html", together=together), queries.next_promotion_change()


@bp.get("/products/<int:product_id>")
def product_page(product_id: int):
    try:
        body = page_cache.fragment("product", lambda: _render_product_body(product_id),
                                   timeout=PRODUCT_TIMEOUT_SECONDS, product_id=product_id)
    except NotFound as exc:
        return render_template("shop/catalog/unavailable.html", message=exc.message), 404
    sku_rows = body["skus"]
    # ?sku=&qty= (coming back from signing in): that SKU and quantity are chosen again.
    chosen_sku = next((r for r in sku_rows if str(r["id"]) == request.args.get("sku") and r["stock"]), None)
    if chosen_sku is None and len(sku_rows) == 1 and sku_rows[0]["stock"]:
        chosen_sku = sku_rows[0]
    qty = request.args.get("qty", "")
    chosen_qty = min(int(qty), chosen_sku["stock"], 999) if chosen_sku and qty.isascii() and qty.isdigit() and 0 < len(qty) < 4 else 1
    share_fen = None
    if current_user.is_authenticated:  # per visitor: never part of the shared body
        lowest = min((r["promotion_price_fen"] or r["price_fen"] for r in sku_rows), default=0)
        share_fen = commissions.share_earning_fen(current_user.id, db.session.get(Product, product_id), lowest)
    flash_items = flash_queries.for_product(product_id)
    if flash_items:
        # Live numbers. The buy form's one-off key may be shared by the visitors without a
        # session a copy goes to: a key counts per buyer, and buying needs a sign-in, which
        # brings a page of one's own.
        full_pages.live(LIVE_COPY_SECONDS)
    together_html = page_cache.fragment("product.together", lambda: _render_together(product_id),
                                        timeout=PRODUCT_TIMEOUT_SECONDS, vary=(product_id,))
    return render_template("shop/catalog/product.html", parts=body["parts"],
                           product=SimpleNamespace(id=product_id, title=body["title"]),
                           merchant=SimpleNamespace(id=body["merchant_id"]), skus=sku_rows,
                           total_stock=body["total_stock"], chosen_sku=chosen_sku, chosen_qty=max(chosen_qty, 1),
                           share_fen=share_fen, together_html=together_html,
                           flash_items=flash_items, flash_key=uuid.uuid4().hex)


@bp.get("/products/<int:product_id>/reviews")
def product_reviews(product_id: int):
    """全部评价: every visible review of a product, newest first, paginated."""
    try:
        product = queries.visible_product(product_id)
    except NotFound as exc:
        return render_template("shop/catalog/unavailable.html", message=exc.message), 404
    return render_template("shop/catalog/reviews.html", product=product, rating=reviews.summary(product.id),
                           page=reviews.for_product(product.id, request.args.get("page", 1), 10),
                           review_name=reviews.display_name)


@bp.get("/media/reviews/<int:order_id>/<name>")
def review_image(order_id: int, name: str):
    """Review photos are public while their review is shown on the product page."""
    key = f"reviews/{order_id}/{name}"
    shown = db.session.scalars(sa.select(Review.images).join(OrderItem, OrderItem.id == Review.order_item_id)
                               .where(OrderItem.order_id == order_id, Review.visible)).all()
    if not any(key in (img.get("key"), img.get("thumb_key")) for images in shown for img in images or []):
        raise NotFound(_("图片不存在"), code=CatalogError.IMAGE_NOT_FOUND)
    path, content_type = storage.open_stored(key)
    return send_file(path, mimetype=content_type, max_age=86400)
