"""Saving a product from the merchant's side: the fields, the spec matrix and its SKUs.

Guarantees:
- Only members of the product's shop change it (another shop's id is NotFound); a
  suspended or closed shop cannot create products.
- The input is typed (`product_input.ProductInput`: fen, basis points, ints) and is
  validated here whoever calls: every problem named at once (`product_input.check`).
- A SKU dropped from the matrix is deactivated, never deleted (orders keep pointing
  at it). Stock of existing SKUs changes only through the stock service, and only
  from the stock the editor saw (`expected_stock`; else 409 stock_changed).
- Editing what shoppers read (title, texts, images, category, specs) of a listed
  product sends it back to review when review is required (the act `revise`); price,
  stock, promotion and commission edits do not.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from app.catalog import product_images
from app.catalog.models import Product, Sku
from app.catalog.product_access import get_for_merchant, move_product, require_member, require_open_shop
from app.catalog.product_input import ProductInput, check
from app.catalog.states import ProductStatus
from app.core import page_cache, storage
from app.core import settings as platform_settings
from app.extensions import db
from app.inventory import services as stock_service
from app.merchants.models import Merchant

CONTENT_FIELDS = ("title", "subtitle", "description_html", "category_id", "tags", "specs")
# The merchant's commission override: not content (shoppers do not read it), so
# changing it never sends an on-sale product back to review.
DISTRIBUTION_FIELDS = ("distribution_enabled", "commission_l1_bp", "commission_l2_bp", "commission_l3_bp")
ROW_FIELDS = ("title", "subtitle", "category_id", "description_html", "tags", "specs", "on_promotion",
              "promotion_starts_at", "promotion_ends_at")


def _refresh_listing_fields(product: Product) -> None:
    active = [s for s in product.skus if s.active]
    product.price_fen = min((s.price_fen for s in active), default=0)
    promos = [s.promotion_price_fen for s in active if s.promotion_price_fen]
    product.promotion_price_fen = min(promos) if product.on_promotion and promos else None
    product.search_text = " ".join([product.title, product.subtitle, *product.tags]).lower()


def save(user, merchant_id: int, data: ProductInput, product_id: int | None = None,
         new_images: list[bytes] | None = None) -> Product:
    """Create a draft or update a product from a whole input (fields, specs, SKUs)."""
    require_member(user, merchant_id)
    if product_id is None:
        require_open_shop(merchant_id)
    values = check(data)
    for content in new_images or []:
        storage.check_image(content)
    if product_id is None:
        product = Product(merchant_id=merchant_id, status=ProductStatus.DRAFT)
        db.session.add(product)
        before_content = None
    else:
        product = get_for_merchant(merchant_id, product_id)
        before_content = {f: getattr(product, f) for f in CONTENT_FIELDS}
    for name in ROW_FIELDS:
        setattr(product, name, values[name])
    for name, value in (values["distribution"] or {}).items():
        setattr(product, name, value)
    db.session.flush()
    _save_skus(user, product, values["skus"], merchant_id)
    if new_images:
        product_images.add_images(user, merchant_id, product.id, new_images)
    db.session.refresh(product)
    _refresh_listing_fields(product)
    content_changed = before_content is None or before_content != {f: getattr(product, f) for f in CONTENT_FIELDS}
    if content_changed:
        product.changed_since_review = True
        if product.status == ProductStatus.ON_SALE and platform_settings.get("product_review_required"):
            db.session.flush()
            product = move_product(user, product.id, "revise", _("修改商品信息，重新审核"))
    if before_content is None:
        db.session.add(Product.timeline_row(product.id, None, ProductStatus.DRAFT, user.id, None))
    db.session.flush()
    page_cache.product_changed(product.id)  # title, prices, SKUs, description, promotion
    return product


def _save_skus(user, product: Product, rows: list[dict], merchant_id: int) -> None:
    threshold_default = db.session.scalar(sa.select(Merchant.default_low_stock_threshold)
                                          .where(Merchant.id == merchant_id)) or 5
    existing = {s.spec_key: s for s in db.session.scalars(sa.select(Sku).where(Sku.product_id == product.id))}
    wanted = set()
    for row in rows:
        wanted.add(row["spec_key"])
        sku = existing.get(row["spec_key"])
        threshold = row["low_stock_threshold"] if row["low_stock_threshold"] is not None else threshold_default
        if sku is None:
            sku = Sku(product_id=product.id, spec_values=row["spec_values"], spec_key=row["spec_key"],
                      price_fen=row["price_fen"], promotion_price_fen=row["promotion_price_fen"],
                      stock=row["stock"], low_stock_threshold=threshold, code=row["code"])
            db.session.add(sku)
            db.session.flush()
            stock_service.initial_stock(sku.id, row["stock"], user.id)
            continue
        sku.active = True
        sku.price_fen, sku.promotion_price_fen = row["price_fen"], row["promotion_price_fen"]
        sku.low_stock_threshold, sku.code = threshold, row["code"]
        db.session.flush()
        if row["stock"] != sku.stock:
            stock_service.set_stock(sku.id, row["stock"], user.id, _("编辑商品"), expected=row["expected_stock"])
    for key, sku in existing.items():
        if key not in wanted:
            sku.active = False
    db.session.flush()
