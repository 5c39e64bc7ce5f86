"""A product's images, from the merchant's side: add (at most MAX_IMAGES, each checked
before any is stored), reorder (the first is the main image) and remove. Any change
marks the product as changed since its last review."""
from __future__ import annotations

from flask_babel import gettext as _

from app.catalog import images
from app.catalog.errors import CatalogError
from app.catalog.models import ProductImage
from app.catalog.product_access import get_for_merchant, require_member
from app.catalog.states import MAX_IMAGES
from app.core import page_cache, storage
from app.core.bounds import to_int
from app.core.errors import NotFound, ValidationError
from app.extensions import db


def add_images(user, merchant_id: int, product_id: int, contents: list[bytes]) -> list[ProductImage]:
    require_member(user, merchant_id)
    product = get_for_merchant(merchant_id, product_id)
    if len(product.images) + len(contents) > MAX_IMAGES:
        message = _("最多 %(n)d 张图片", n=MAX_IMAGES)
        raise ValidationError(message, code=CatalogError.TOO_MANY_IMAGES, fields={"images": message})
    for content in contents:
        storage.check_image(content)
    added = []
    position = len(product.images)
    for content in contents:
        original, thumb = images.store(content, product.id)
        image = ProductImage(product_id=product.id, key=original.key, thumb_key=thumb.key, position=position,
                             width=original.width, height=original.height)
        db.session.add(image)
        added.append(image)
        position += 1
    product.changed_since_review = True
    db.session.flush()
    page_cache.product_changed(product.id)
    return added


def reorder_images(user, merchant_id: int, product_id: int, image_ids: list[int]) -> None:
    """Set the order of the product's images; the first is the main image."""
    require_member(user, merchant_id)
    product = get_for_merchant(merchant_id, product_id)
    own = {img.id: img for img in product.images}
    if sorted(own) != sorted(to_int(i) or 0 for i in image_ids):
        raise ValidationError(_("图片列表不完整"), code=CatalogError.INVALID_IMAGE_ORDER)
    for position, image_id in enumerate(image_ids):
        own[int(image_id)].position = position
    product.changed_since_review = True
    db.session.flush()
    page_cache.product_changed(product.id)


def remove_image(user, merchant_id: int, product_id: int, image_id: int) -> None:
    require_member(user, merchant_id)
    product = get_for_merchant(merchant_id, product_id)
    image = next((img for img in product.images if img.id == image_id), None)
    if image is None:
        raise NotFound(_("图片不存在"), code=CatalogError.IMAGE_NOT_FOUND)
    keys = (image.key, image.thumb_key)
    product.images.remove(image)
    for position, img in enumerate(product.images):
        img.position = position
    product.changed_since_review = True
    db.session.flush()
    page_cache.product_changed(product.id)
    for key in keys:
        storage.delete_stored(key)
