"""Review: the merchant submits a product (or withdraws it again), the platform
approves or rejects it.

Guarantees:
- Submitting needs an open shop, at least one image and one SKU; without required
  review (platform setting) a submitted product goes straight on sale (`publish`).
- Each decision is one act of the product lifecycle: a guarded UPDATE with its
  ProductEvent row; an admin approving a product the merchant withdrew meanwhile gets
  StaleState and nothing changes. Only admins with `products.review` decide (Forbidden).
- The platform's decisions are audited and the shop's owners are told.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from app.catalog import policies
from app.catalog.errors import CatalogError
from app.catalog.models import Product
from app.catalog.product_access import (
    get_for_merchant,
    get_for_review,
    move_product,
    require_member,
    require_open_shop,
)
from app.core import audit
from app.core import settings as platform_settings
from app.core.clock import utcnow
from app.core.errors import ValidationError
from app.extensions import db
from app.merchants.models import MerchantMember
from app.merchants.states import MemberRole
from app.notifications import services as notifications


def check_complete(product: Product) -> None:
    """What a product needs before shoppers may see it."""
    missing = {}
    if not product.images:
        missing["images"] = _("至少上传一张商品图片")
    if not any(s.active for s in product.skus):
        missing["skus"] = _("至少需要一个规格")
    if missing:
        raise ValidationError(next(iter(missing.values())), code=CatalogError.PRODUCT_INCOMPLETE, fields=missing)


def review_required() -> bool:
    return bool(platform_settings.get("product_review_required"))


# --- the merchant ------------------------------------------------------------------------

def submit(user, merchant_id: int, product_id: int) -> Product:
    """Send to review (or straight to sale when the platform does not require review)."""
    require_member(user, merchant_id)
    require_open_shop(merchant_id)
    product = get_for_merchant(merchant_id, product_id)
    check_complete(product)
    if review_required():
        policies.require(product, user, "submit")
        return move_product(user, product.id, "submit", reject_reason=None)
    policies.require(product, user, "publish")
    return move_product(user, product.id, "publish", reject_reason=None, listed_at=utcnow(),
                        changed_since_review=False)


def withdraw(user, merchant_id: int, product_id: int) -> Product:
    """Take a product back from review to keep editing it."""
    require_member(user, merchant_id)
    product = get_for_merchant(merchant_id, product_id)
    policies.require(product, user, "withdraw")
    return move_product(user, product.id, "withdraw", _("撤回审核"))


# --- the platform ------------------------------------------------------------------------

def notify_shop(product: Product, title: str, body: str) -> None:
    owner_ids = db.session.scalars(sa.select(MerchantMember.user_id).where(
        MerchantMember.merchant_id == product.merchant_id, MerchantMember.role == MemberRole.OWNER))
    for user_id in owner_ids:
        notifications.notify(user_id, title, body, link=f"/merchant/products/{product.id}", kind="product_review")


def reason_given(text: str | None) -> str:
    reason = (text or "").strip()
    if not 2 <= len(reason) <= 200:
        message = _("请填写原因（2 到 200 个字）")
        raise ValidationError(message, code=CatalogError.REASON_REQUIRED, fields={"reason": message})
    return reason


def approve(actor, product_id: int) -> Product:
    policies.require_reviewer(actor)
    policies.require(get_for_review(product_id), actor, "approve")
    product = move_product(actor, product_id, "approve", listed_at=utcnow(), changed_since_review=False,
                           reject_reason=None, delist_reason=None)
    audit.record(actor, "product.approve", product, {"status": ["pending_review", "on_sale"]})
    notify_shop(product, _("商品已通过审核"), _("「%(t)s」已上架销售。", t=product.title))
    return product


def reject(actor, product_id: int, reason: str) -> Product:
    policies.require_reviewer(actor)
    reason = reason_given(reason)
    policies.require(get_for_review(product_id), actor, "reject")
    product = move_product(actor, product_id, "reject", reason, reject_reason=reason)
    audit.record(actor, "product.reject", product, {"status": ["pending_review", "rejected"]}, reason)
    notify_shop(product, _("商品未通过审核"), _("「%(t)s」：%(r)s", t=product.title, r=reason))
    return product
