"""Home, category entry and cart placeholders until the catalog and orders
issues fill them, plus serving uploaded images."""
from __future__ import annotations

from flask import render_template, send_file

from app.core import storage
from app.web.shop import bp


@bp.get("/")
def home():
    return render_template("shop/home.html")


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
