"""Public product images (originals and thumbnails) and the site icon."""
from __future__ import annotations

from flask import current_app, send_file, send_from_directory

from app.core import storage
from app.web.shop.blueprint import bp

ICON_MAX_AGE_SECONDS = 7 * 86400


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever a page links; the same icon base.html names."""
    return send_from_directory(current_app.static_folder, "img/favicon.ico", mimetype="image/x-icon",
                               max_age=ICON_MAX_AGE_SECONDS)


@bp.get("/media/products/<int:product_id>/<name>")
def product_image(product_id: int, name: str):
    """Product images are public, like avatars and logos."""
    path, content_type = storage.open_stored(f"products/{product_id}/{name}")
    return send_file(path, mimetype=content_type, max_age=86400)
