"""Loading products for whoever asks: a shop's members see their shop's products only
(another shop's id is NotFound, exactly like an id that does not exist); the platform's
reviewers see every product. Status moves go through `move_product`, the product
lifecycle's one door."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from app.catalog.errors import CatalogError
from app.catalog.models import Product, Sku
from app.catalog.states import PRODUCT_LIFECYCLE
from app.core import page_cache
from app.core.errors import Conflict, NotFound
from app.core.lifecycle import move
from app.extensions import db
from app.merchants import shops
from app.merchants.models import Merchant


def get_for_merchant(merchant_id: int, product_id: int) -> Product:
    product = db.session.scalar(sa.select(Product).where(Product.id == product_id, Product.merchant_id == merchant_id))
    if product is None:
        raise NotFound(_("商品不存在"), code=CatalogError.PRODUCT_NOT_FOUND)
    return product


def get_sku_for_merchant(merchant_id: int, sku_id: int) -> Sku:
    sku = db.session.scalar(sa.select(Sku).join(Product).where(Sku.id == sku_id, Product.merchant_id == merchant_id))
    if sku is None:
        raise NotFound(_("规格不存在"), code=CatalogError.SKU_NOT_FOUND)
    return sku


def get_for_review(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound(_("商品不存在"), code=CatalogError.PRODUCT_NOT_FOUND)
    return product


def require_member(user, merchant_id: int) -> None:
    """Only the shop's members act on its products (anyone else: NotFound)."""
    shops.require_member(user, merchant_id)


def require_open_shop(merchant_id: int) -> Merchant:
    """A suspended or closed shop cannot create products or put them on sale."""
    merchant = shops.get_merchant(merchant_id)
    if not shops.is_open(merchant):
        raise Conflict(_("店铺暂停营业或已关闭，不能上架商品"), code=CatalogError.SHOP_NOT_OPEN)
    return merchant


def move_product(actor, product_id: int, act_name: str, note: str | None = None, **values) -> Product:
    """Make one act of the product lifecycle happen (guarded UPDATE and a ProductEvent row
    with who and why, in the caller's transaction); StaleState when the product is no
    longer in a state the act starts from. Returns the product as stored now."""
    move(PRODUCT_LIFECYCLE, Product, product_id, act_name, actor_id=getattr(actor, "id", None), note=note,
         values=values)
    page_cache.product_changed(product_id)  # on or off the storefront, in review or not
    return db.session.get(Product, product_id)
