"""Admin review moderation: every review (filter shown/hidden and by rating),
hiding an abusive one with a required reason and showing it again. Both are
audited by the service and appear in the audit log; both work over HTMX (the
row is swapped) and as plain posts. The list runs a fixed number of queries."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.core import storage
from app.core.db import transaction
from app.core.errors import DomainError
from app.core.htmx import is_htmx, with_toast
from app.core.pagination import paginate
from app.extensions import db
from app.merchants.models import Merchant
from app.orders import reviews
from app.orders.models import OrderItem, Review
from app.web.admin.blueprint import bp
from app.web.auth import admin_required
from app.web.redirects import safe_referrer


def _facts(items: list[Review]) -> dict:
    """Product titles (as ordered) and shop names of a page of reviews: two queries."""
    item_ids = {r.order_item_id for r in items}
    merchant_ids = {r.merchant_id for r in items}
    titles = dict(db.session.execute(sa.select(OrderItem.id, OrderItem.title)
                                     .where(OrderItem.id.in_(item_ids))).all()) if item_ids else {}
    shops = dict(db.session.execute(sa.select(Merchant.id, Merchant.name)
                                    .where(Merchant.id.in_(merchant_ids))).all()) if merchant_ids else {}
    return {"titles": titles, "shops": shops, "display_name": reviews.display_name}


def _filters() -> dict:
    visible = request.args.get("visible", "")
    rating = request.args.get("rating", "")
    return {"visible": visible if visible in ("visible", "hidden") else "",
            "rating": rating if rating in ("1", "2", "3", "4", "5") else "",
            "q": (request.args.get("q") or "").strip()[:60]}


@bp.get("/reviews")
@admin_required("reviews.moderate")
def reviews_admin():
    f = _filters()
    stmt = sa.select(Review).options(selectinload(Review.buyer)).order_by(Review.created_at.desc(), Review.id.desc())
    if f["visible"]:
        stmt = stmt.where(Review.visible.is_(f["visible"] == "visible"))
    if f["rating"]:
        stmt = stmt.where(Review.rating == int(f["rating"]))
    if f["q"]:
        stmt = stmt.where(Review.text.contains(f["q"], autoescape=True))
    page = paginate(stmt, request.args.get("page", 1), request.args.get("per_page", 30))
    context = {"page": page, "filters": f, "args": {k: v for k, v in f.items() if v}, "row_error": None,
               "row_reason": "", **_facts(page.items)}
    if is_htmx() and request.headers.get("HX-Target") == "reviews-table":
        return render_template("admin/reviews/_table.html", **context)
    return render_template("admin/reviews/index.html", **context)


def _row(review_id: int, error: str | None = None, reason: str = "", open_form: bool = False) -> str:
    db.session.expire_all()
    review = db.session.get(Review, review_id)
    return render_template("admin/reviews/_row.html", review=review, row_error=error, row_reason=reason,
                           open_form=open_form, **_facts([review]))


def _set(review_id: int, visible: bool):
    if db.session.get(Review, review_id) is None:
        abort(404)
    reason = (request.form.get("reason") or "").strip()
    try:
        with transaction():
            reviews.set_visible(current_user._get_current_object(), review_id, visible, reason)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        message = (exc.fields or {}).get("reason") or exc.message
        if is_htmx():
            return with_toast(_row(review_id, message, reason, open_form=True), message, "danger")
        flash(message, "danger")
        return redirect(safe_referrer(url_for("admin.reviews_admin")))
    message = _("评价已隐藏，买家和其他用户将看不到它") if not visible else _("评价已恢复显示")
    if is_htmx():
        return with_toast(_row(review_id), message)
    flash(message, "success")
    return redirect(safe_referrer(url_for("admin.reviews_admin")))


@bp.post("/reviews/<int:review_id>/hide")
@admin_required("reviews.moderate")
def reviews_hide(review_id: int):
    return _set(review_id, False)


@bp.post("/reviews/<int:review_id>/show")
@admin_required("reviews.moderate")
def reviews_show(review_id: int):
    return _set(review_id, True)


@bp.get("/reviews/<int:review_id>/images/<name>")
@admin_required("reviews.moderate")
def reviews_image(review_id: int, name: str):
    review = db.session.get(Review, review_id)
    if review is None:
        abort(404)
    key = reviews.image_key(review, name)
    if key is None:
        abort(404)
    path, content_type = storage.open_stored(key)
    return send_file(path, mimetype=content_type, max_age=3600)
