"""Sharing: the distributor's code and links, QR codes (PNG and SVG) and the poster.

A product link is only made for a product shoppers can see (on sale, open shop,
active category); anything else is a 404, so the centre never draws another
merchant's draft. QR codes carry `?s=qr` so the binding records its source."""
from __future__ import annotations

from flask import abort, g, make_response, render_template, request

from app.catalog import queries as catalog
from app.catalog.queries import ProductFilters
from app.core.bounds import bounded_int
from app.core.errors import NotFound
from app.distribution import share
from app.web.distributor.access import distributor_required, shop_link
from app.web.distributor.blueprint import bp

PICKER_SIZE = 8


def _product():
    """The product named by ?product_id= (visible ones only), None when none is named."""
    raw = (request.args.get("product_id") or "").strip()
    if not raw:
        return None
    try:
        return catalog.visible_product(bounded_int(raw, 1))
    except (ValueError, NotFound):
        abort(404)


def _file(data: bytes, content_type: str, name: str):
    response = make_response(data)
    response.headers["Content-Type"] = content_type
    response.headers["Cache-Control"] = "private, max-age=300"
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _file_name(product, ext: str, kind: str = "qr") -> str:
    suffix = f"-p{product.id}" if product is not None else ""
    return f"{kind}-{g.distributor.code}{suffix}.{ext}"


@bp.get("/share")
@distributor_required
def share_page():
    product = _product()
    q = (request.args.get("q") or "").strip()[:50]
    picks = catalog.top(ProductFilters(q=q), PICKER_SIZE)
    return render_template("distributor/share.html", distributor=g.distributor, product=product, q=q, picks=picks,
                           link=shop_link(g.distributor, product.id if product else None),
                           price_fen=share.price_fen(product) if product else None)


def _product_and_qr_link():
    """The product being shared (None for the shop itself) and the link its QR code carries."""
    product = _product()
    return product, shop_link(g.distributor, product.id if product else None, qr=True)


@bp.get("/share/qr.png")
@distributor_required
def share_qr_png():
    product, url = _product_and_qr_link()
    return _file(share.qr_png(url), "image/png", _file_name(product, "png"))


@bp.get("/share/qr.svg")
@distributor_required
def share_qr_svg():
    product, url = _product_and_qr_link()
    return _file(share.qr_svg(url), "image/svg+xml", _file_name(product, "svg"))


@bp.get("/share/poster.png")
@distributor_required
def share_poster():
    product, url = _product_and_qr_link()
    return _file(share.poster_png(product, g.distributor, url), "image/png", _file_name(product, "png", "poster"))
