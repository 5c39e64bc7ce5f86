"""On and off sale: the merchant's 下架 and 上架 again, the platform's violation delist,
and every product of a shop closed for good. Off-sale products keep their orders,
reviews, sales and history; each move is an act of the product lifecycle with its
ProductEvent row."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from app.catalog import policies
from app.catalog.models import Product
from app.catalog.product_access import (
    get_for_merchant,
    get_for_review,
    move_product,
    require_member,
    require_open_shop,
)
from app.catalog.product_review import check_complete, notify_shop, reason_given, review_required
from app.catalog.states import PRODUCT_LIFECYCLE
from app.core import audit, page_cache
from app.core.clock import utcnow
from app.core.lifecycle import try_move
from app.extensions import db


def delist(user, merchant_id: int, product_id: int) -> Product:
    """下架: off the storefront; orders, reviews, sales and history stay."""
    require_member(user, merchant_id)
    product = get_for_merchant(merchant_id, product_id)
    policies.require(product, user, "delist")
    return move_product(user, product.id, "delist")


def relist(user, merchant_id: int, product_id: int) -> Product:
    """上架 again: back to review when the product changed or review is required, else on sale."""
    require_member(user, merchant_id)
    require_open_shop(merchant_id)
    product = get_for_merchant(merchant_id, product_id)
    check_complete(product)
    if product.changed_since_review or review_required():
        policies.require(product, user, "relist_for_review")
        return move_product(user, product.id, "relist_for_review")
    policies.require(product, user, "relist")
    return move_product(user, product.id, "relist", listed_at=utcnow())


def violation_delist(actor, product_id: int, reason: str) -> Product:
    """The platform takes an on-sale product off sale for a violation."""
    policies.require_reviewer(actor)
    reason = reason_given(reason)
    policies.require(get_for_review(product_id), actor, "violation_delist")
    product = move_product(actor, product_id, "violation_delist", reason, delist_reason=reason,
                           changed_since_review=True)
    audit.record(actor, "product.violation_delist", product, {"status": ["on_sale", "off_sale"]}, reason)
    notify_shop(product, _("商品被平台下架"), _("「%(t)s」：%(r)s", t=product.title, r=reason))
    return product


def close_shop_products(merchant_id: int) -> int:
    """When a shop is closed for good, every product on sale or in review goes off sale
    (each with its timeline row). Returns how many moved."""
    closing = PRODUCT_LIFECYCLE.transition("close_shop").sources
    ids = db.session.scalars(sa.select(Product.id).where(Product.merchant_id == merchant_id,
                                                         Product.status.in_(closing)).order_by(Product.id)).all()
    page_cache.product_changed(*ids)
    return sum(try_move(PRODUCT_LIFECYCLE, Product, product_id, "close_shop", note=_("店铺已关闭"))
               for product_id in ids)
