"""Reviews of the shop's products (评价管理): the list (all, or only those not
yet replied to), the shop's one reply per review over HTMX or a plain post, and
the review's images. Another shop's review is a 404."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from app.core import storage
from app.core.db import transaction
from app.core.errors import DomainError
from app.core.htmx import is_htmx, with_toast
from app.extensions import db
from app.orders import reviews
from app.orders.models import OrderItem, Review
from app.web.merchant.blueprint import bp
from app.web.merchant.context import merchant_required
from app.web.redirects import safe_referrer


def _review(review_id: int) -> Review:
    review = db.session.scalar(sa.select(Review).where(Review.id == review_id, Review.merchant_id == g.merchant.id))
    if review is None:
        abort(404)
    return review


def _titles(items: list[Review]) -> dict[int, str]:
    """The product title as ordered, per review (one query)."""
    ids = {r.order_item_id for r in items}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(OrderItem.id, OrderItem.title).where(OrderItem.id.in_(ids))).all())


def _card(review: Review, values: dict | None = None, error: str | None = None) -> str:
    return render_template("merchant/reviews/_card.html", review=review, titles=_titles([review]),
                           display_name=reviews.display_name, reply_value=(values or {}).get("reply", ""),
                           reply_error=error)


@bp.get("/reviews")
@merchant_required()
def reviews_list():
    unreplied = request.args.get("filter") == "unreplied"
    page = reviews.for_merchant(g.merchant.id, request.args.get("page", 1), request.args.get("per_page", 20),
                                unreplied=unreplied)
    unreplied_count = db.session.scalar(sa.select(sa.func.count(Review.id)).where(
        Review.merchant_id == g.merchant.id, Review.reply.is_(None))) or 0
    return render_template("merchant/reviews/index.html", page=page, unreplied=unreplied,
                           unreplied_count=unreplied_count, titles=_titles(page.items),
                           display_name=reviews.display_name, reply_value="", reply_error=None,
                           args={"filter": "unreplied"} if unreplied else {})


@bp.post("/reviews/<int:review_id>/reply")
@merchant_required()
def review_reply(review_id: int):
    review = _review(review_id)
    text = (request.form.get("reply") or "").strip()
    try:
        with transaction():
            review = reviews.reply(g.merchant.id, review.id, text)
    except DomainError as exc:
        if exc.status == 404:
            raise
        message = (exc.fields or {}).get("reply") or exc.message
        review = _review(review_id)
        if is_htmx():
            return with_toast(_card(review, {"reply": text}, message), message, "danger")
        flash(message, "danger")
        return redirect(safe_referrer(url_for("merchant.reviews_list")))
    message = _("回复已发布")
    if is_htmx():
        return with_toast(_card(review), message)
    flash(message, "success")
    return redirect(safe_referrer(url_for("merchant.reviews_list")))


@bp.get("/reviews/<int:review_id>/images/<name>")
@merchant_required()
def review_image(review_id: int, name: str):
    review = _review(review_id)
    key = reviews.image_key(review, name)
    if key is None:
        abort(404)
    path, content_type = storage.open_stored(key)
    return send_file(path, mimetype=content_type, max_age=3600)
