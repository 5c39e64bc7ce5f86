"""Home, category entry and cart placeholders until the catalog and orders
issues fill them, plus serving uploaded images."""
from __future__ import annotations

from flask import render_template, send_file

from app.core import storage
from app.merchants import queries
from app.web.shop import bp


@bp.get("/")
def home():
    from app.web.shop.views_shops import logo_name

    shops = [(merchant, logo_name(merchant)) for merchant in queries.open_shops(8)]
    return render_template("shop/home.html", shops=shops)


@bp.get("/categories")
def categories():
    return render_template("shop/categories.html")


@bp.get("/cart")
def cart():
    return render_template("shop/cart.html")


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
