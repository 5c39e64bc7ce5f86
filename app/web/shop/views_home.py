"""Home and category entry, plus serving uploaded images."""
from __future__ import annotations

from flask import render_template, request, send_file

from app.catalog import categories as category_service
from app.catalog import queries as catalog
from app.core import storage
from app.flashsales import queries as flash_queries
from app.merchants import queries
from app.web.shop.blueprint import bp
from app.web.shop.views_shops import logo_name


@bp.get("/")
def home():
    shops = [(merchant, logo_name(merchant)) for merchant in queries.open_shops(8)]
    promotions = catalog.search(catalog.ProductFilters(promotion=True, sort="sales"), 1, 10).items
    new_arrivals = catalog.search(catalog.ProductFilters(sort="newest"), 1, 6).items
    best_sellers = catalog.search(catalog.ProductFilters(sort="sales"), 1, 20)
    ends = [p.promotion_ends_at for p in promotions if p.promotion_ends_at]
    return render_template("shop/home.html", flash_items=flash_queries.running(10), shops=shops, top_categories=category_service.tree(active_only=True)[:10],
                           promotions=promotions, promotion_ends_at=min(ends) if ends else None,
                           new_arrivals=new_arrivals, best_sellers=best_sellers)


@bp.get("/categories")
def categories():
    tree = category_service.tree(active_only=True)
    try:
        current_id = int(request.args.get("id") or 0)
    except ValueError:
        current_id = 0
    current = next((c for c in tree if c["id"] == current_id), tree[0] if tree else None)
    return render_template("shop/categories.html", tree=tree, current=current)


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
