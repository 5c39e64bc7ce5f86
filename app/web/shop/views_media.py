"""Public product images (originals and thumbnails)."""
from __future__ import annotations

from flask import send_file

from app.core import storage
from app.web.shop import bp


@bp.get("/media/products/<int:product_id>/<name>")
def product_image(product_id: int, name: str):
    """Product images are public, like avatars and logos."""
    path, content_type = storage.open_stored(f"products/{product_id}/{name}")
    return send_file(path, mimetype=content_type, max_age=86400)
