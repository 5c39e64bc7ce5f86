"""Reviews (评价) of received items.

Guarantees:
- Only the buyer reviews, only after receipt, each order item once (a unique
  column backs the check when two submits race).
- A merchant replies once, to reviews of their own shop only.
- Hiding a review is an admin act with a reason, written to the audit log; hidden
  reviews leave the product page and its average.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from app.catalog.images import make_thumbnail
from app.core import audit, page_cache, storage
from app.core.bounds import bounded_int, to_int
from app.core.clock import utcnow
from app.core.db import add_unique
from app.core.errors import Conflict, NotFound, ValidationError
from app.core.pagination import paginate
from app.extensions import db
from app.orders.errors import OrderError
from app.orders.models import Order, OrderItem, Review
from app.orders.states import REVIEW_MAX_IMAGES, OrderStatus

TEXT_MAX = 500
REPLY_MAX = 500
REVIEWABLE = (OrderStatus.RECEIVED, OrderStatus.COMPLETED)


@dataclass(frozen=True)
class RatingSummary:
    count: int
    average: float  # 0.0 when there are none

    @property
    def stars(self) -> int:
        return round(self.average)


def _clean_rating(raw) -> int:
    try:
        rating = int(str(raw).strip())
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise ValidationError(_("请选择 1 到 5 星"), code=OrderError.INVALID_RATING, fields={"rating": _("请选择 1 到 5 星")})
    return rating


def create(buyer_id: int, order_item_id, rating, text: str = "", images: list[bytes] | None = None,
           anonymous: bool = False) -> Review:
    """Review one received item of the buyer's own order."""
    try:
        order_item_id = bounded_int(order_item_id)
    except (TypeError, ValueError):
        raise NotFound(_("订单商品不存在"), code=OrderError.ORDER_ITEM_NOT_FOUND) from None
    row = db.session.execute(sa.select(OrderItem, Order).join(Order, Order.id == OrderItem.order_id)
                             .where(OrderItem.id == order_item_id, Order.buyer_id == buyer_id)).first()
    if row is None:
        raise NotFound(_("订单商品不存在"), code=OrderError.ORDER_ITEM_NOT_FOUND)
    item, order = row
    if order.status not in REVIEWABLE:
        raise Conflict(_("确认收货后才能评价"), code=OrderError.NOT_RECEIVED)
    if item.reviewed:
        raise Conflict(_("该商品已评价"), code=OrderError.ALREADY_REVIEWED)
    rating = _clean_rating(rating)
    text = (text or "").strip()
    if len(text) > TEXT_MAX:
        raise ValidationError(_("评价最多 %(n)d 字", n=TEXT_MAX), code=OrderError.TEXT_TOO_LONG,
                              fields={"text": _("评价最多 %(n)d 字", n=TEXT_MAX)})
    images = [data for data in images or [] if data]
    if len(images) > REVIEW_MAX_IMAGES:
        raise ValidationError(_("最多上传 %(n)d 张图片", n=REVIEW_MAX_IMAGES), code=OrderError.TOO_MANY_IMAGES,
                              fields={"images": _("最多上传 %(n)d 张图片", n=REVIEW_MAX_IMAGES)})
    for data in images:
        storage.check_image(data)  # every image is checked before any is stored
    stored = []
    for data in images:
        original = storage.save_image(data, f"reviews/{order.id}")
        thumb = storage.save_image(make_thumbnail(data), f"reviews/{order.id}")
        stored.append({"key": original.key, "thumb_key": thumb.key})
    review = Review(order_item_id=item.id, buyer_id=buyer_id, product_id=item.product_id,
                    merchant_id=order.merchant_id, rating=rating, text=text, images=stored,
                    anonymous=bool(anonymous), spec_text=item.spec_text)
    moved = db.session.execute(sa.update(OrderItem).where(OrderItem.id == item.id, OrderItem.reviewed.is_(False))
                               .values(reviewed=True).execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise Conflict(_("该商品已评价"), code=OrderError.ALREADY_REVIEWED)
    add_unique(review, Conflict(_("该商品已评价"), code=OrderError.ALREADY_REVIEWED))
    left = db.session.scalar(sa.select(sa.func.count()).select_from(OrderItem).where(
        OrderItem.order_id == order.id, OrderItem.reviewed.is_(False)))
    if left == 0:
        db.session.execute(sa.update(Order).where(Order.id == order.id).values(to_review=False)
                           .execution_options(synchronize_session=False))
    db.session.flush()
    page_cache.product_changed(review.product_id)  # its rating and latest reviews
    return review


def reply(merchant_id: int, review_id, text: str) -> Review:
    """The shop's one public reply to a review of its product."""
    review = _for_merchant(merchant_id, review_id)
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("请输入回复内容"), code=OrderError.REPLY_REQUIRED, fields={"reply": _("请输入回复内容")})
    if len(text) > REPLY_MAX:
        raise ValidationError(_("回复最多 %(n)d 字", n=REPLY_MAX), code=OrderError.REPLY_TOO_LONG,
                              fields={"reply": _("回复最多 %(n)d 字", n=REPLY_MAX)})
    moved = db.session.execute(sa.update(Review).where(Review.id == review.id, Review.reply.is_(None))
                               .values(reply=text, replied_at=utcnow())
                               .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise Conflict(_("已回复过该评价"), code=OrderError.ALREADY_REPLIED)
    db.session.expire_all()
    return db.session.get(Review, review.id)


def _for_merchant(merchant_id: int, review_id) -> Review:
    review_id = to_int(review_id)
    review = (db.session.scalar(sa.select(Review).where(Review.id == review_id, Review.merchant_id == merchant_id))
              if review_id is not None else None)
    if review is None:
        raise NotFound(_("评价不存在"), code=OrderError.REVIEW_NOT_FOUND)
    return review


def set_visible(admin, review_id: int, visible: bool, reason: str = "") -> Review:
    """Hide an abusive review (reason required) or show it again; audited."""
    review_id = to_int(review_id, 1)
    review = db.session.get(Review, review_id) if review_id is not None else None
    if review is None:
        raise NotFound(_("评价不存在"), code=OrderError.REVIEW_NOT_FOUND)
    reason = (reason or "").strip()[:200]
    if not visible and not reason:
        raise ValidationError(_("请填写隐藏原因"), code=OrderError.REASON_REQUIRED, fields={"reason": _("请填写隐藏原因")})
    if review.visible == visible:
        return review
    before = review.visible
    review.visible, review.hidden_reason = visible, None if visible else reason
    audit.record(admin, "review.hide" if not visible else "review.show", review,
                 {"visible": [before, visible]}, note=reason or None)
    db.session.flush()
    page_cache.product_changed(review.product_id)
    return review


def image_key(review: Review, name: str) -> str | None:
    """The stored key of the review's photo or thumbnail whose file name is `name`, or None."""
    keys = {img.get(k) for img in review.images or [] for k in ("key", "thumb_key")}
    return next((k for k in keys if k and k.rsplit("/", 1)[-1] == name), None)


def summary(product_id: int) -> RatingSummary:
    count, average = db.session.execute(
        sa.select(sa.func.count(Review.id), sa.func.avg(Review.rating))
        .where(Review.product_id == product_id, Review.visible)).one()
    return RatingSummary(count=count or 0, average=round(float(average or 0), 1))


def for_product(product_id: int, page: int = 1, per_page: int = 10):
    stmt = (sa.select(Review).where(Review.product_id == product_id, Review.visible)
            .options(selectinload(Review.buyer)).order_by(Review.created_at.desc(), Review.id.desc()))
    return paginate(stmt, page, per_page)


def for_merchant(merchant_id: int, page: int = 1, per_page: int = 20, unreplied: bool = False):
    stmt = (sa.select(Review).where(Review.merchant_id == merchant_id)
            .options(selectinload(Review.buyer)).order_by(Review.created_at.desc(), Review.id.desc()))
    if unreplied:
        stmt = stmt.where(Review.reply.is_(None))
    return paginate(stmt, page, per_page)


def display_name(review: Review) -> str:
    """Anonymous reviews show a masked name, as shoppers expect (张**); a deleted account's, 已注销用户."""
    if review.buyer is not None and review.buyer.is_deleted:
        return review.buyer.display_name
    name = (review.buyer.nickname if review.buyer else "") or _("用户")
    if review.anonymous:
        return name[0] + "**" if name else _("匿名用户")
    return name
