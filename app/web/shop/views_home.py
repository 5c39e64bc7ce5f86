"""Home and category entry, plus serving uploaded images."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import render_template, request, send_file

from app.catalog import categories as category_service
from app.catalog import queries as catalog
from app.core import page_cache, storage
from app.core.clock import utcnow
from app.flashsales import queries as flash_queries
from app.merchants import queries
from app.web.shop.blueprint import bp
from app.web.shop.views_shops import logo_name

# How long a fragment may be kept at most. Changes made through the services invalidate at
# once (app.core.page_cache); these bound what nothing announces: sales counts, and the
# 限时秒杀 progress bars, which move with every flash-sale purchase (a few seconds late is
# fine there: the product page's own block and the buy path read live numbers).
BLOCKS_TIMEOUT_SECONDS = 300
FLASH_STRIP_TIMEOUT_SECONDS = 5


def _home_blocks() -> tuple[dict, datetime | None]:
    shops = [(merchant, logo_name(merchant)) for merchant in queries.open_shops(8)]
    promotions = catalog.top(catalog.ProductFilters(promotion=True, sort="sales"), 10)
    new_arrivals = catalog.top(catalog.ProductFilters(sort="newest"), 6)
    best_sellers = catalog.shelf(catalog.ProductFilters(sort="sales"), 1, 20)
    ends = [p.promotion_ends_at for p in promotions if p.promotion_ends_at]
    top = render_template("shop/_home_top.html", top_categories=category_tree()[:10])
    blocks = render_template("shop/_home_blocks.html", shops=shops, promotions=promotions,
                             promotion_ends_at=min(ends) if ends else None, new_arrivals=new_arrivals,
                             best_sellers=best_sellers)
    return {"top": top, "blocks": blocks}, catalog.next_promotion_change()


def _flash_strip() -> tuple[str, datetime | None]:
    """The strip, kept until an event starts or ends, and only a few seconds while one runs."""
    items = flash_queries.running(10)
    expires_at = flash_queries.next_change()
    if items:
        soon = utcnow() + timedelta(seconds=FLASH_STRIP_TIMEOUT_SECONDS)
        expires_at = min(expires_at, soon) if expires_at else soon
    return (render_template("shop/flash/_home.html", flash_items=items) if items else ""), expires_at


@bp.get("/")
def home():
    """Everything below the top bar is the same for every visitor: cached fragments."""
    blocks = page_cache.fragment("home", _home_blocks, timeout=BLOCKS_TIMEOUT_SECONDS)
    flash_html = page_cache.fragment("home.flash", _flash_strip, timeout=BLOCKS_TIMEOUT_SECONDS)
    return render_template("shop/home.html", top_html=blocks["top"], flash_html=flash_html,
                           blocks_html=blocks["blocks"])


def category_tree() -> list[dict]:
    """The active category tree (one query when the cache does not hold it)."""
    return page_cache.fragment("category.tree", lambda: (category_service.tree(active_only=True), None),
                               timeout=BLOCKS_TIMEOUT_SECONDS)


@bp.get("/categories")
def categories():
    try:
        current_id = int(request.args.get("id") or 0)
    except ValueError:
        current_id = 0
    tree = category_tree()
    current = next((c for c in tree if c["id"] == current_id), tree[0] if tree else None)
    # Keyed by the category shown, never by the raw argument: ?id= cannot grow the cache.
    browser = page_cache.fragment(
        "categories", lambda: (render_template("shop/_category_browser.html", tree=tree, current=current), None),
        timeout=BLOCKS_TIMEOUT_SECONDS, vary=(current["id"] if current else None,))
    return render_template("shop/categories.html", browser_html=browser)


@bp.get("/media/avatars/<name>")
def avatar(name: str):
    """Avatars are public; other uploads get their own access-checked routes."""
    path, content_type = storage.open_stored(f"avatars/{name}")
    return send_file(path, mimetype=content_type, max_age=86400)


@bp.get("/media/logos/<name>")
def logo(name: str):
    """Shop logos are public, like avatars."""
    path, content_type = storage.open_stored(f"logos/{name}")
    return send_file(path, mimetype=content_type, max_age=86400)
