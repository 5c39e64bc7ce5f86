"""A shop's page on the storefront. A suspended or closed shop answers with a
page that says so (200), an unknown id with the branded 404."""
from __future__ import annotations

from flask import render_template, request

from app.catalog import queries
from app.core.htmx import is_htmx
from app.merchants import shops
from app.merchants.models import Merchant
from app.web.shop.blueprint import bp


def logo_name(merchant: Merchant) -> str | None:
    """The file name the public logo route serves, for a key like "logos/ab12.png"."""
    key = merchant.logo_key or ""
    folder, _, name = key.partition("/")
    return name if folder == "logos" and name else None


@bp.get("/shops/<int:merchant_id>")
def shop_page(merchant_id: int):
    merchant = shops.get_merchant(merchant_id)  # unknown: the branded 404 page, "店铺不存在"
    if not shops.is_open(merchant):
        return render_template("shop/shops/state.html", merchant=merchant, logo=logo_name(merchant))
    listing = queries.ProductFilters(merchant_id=merchant.id, sort="sales")
    if is_htmx() and request.args.get("page"):  # the next cards only: whether more follow, not how many
        return render_template("shop/catalog/_grid_page.html", page=queries.shelf(listing, request.args["page"], 20),
                               next_url_args={}, endpoint="shop.shop_page", endpoint_kwargs={"merchant_id": merchant.id})
    page = queries.search(listing, request.args.get("page", 1), 20, count_up_to=queries.COUNT_UP_TO)
    return render_template("shop/shops/show.html", merchant=merchant, logo=logo_name(merchant), page=page)
