"""The in-site inbox: list, mark read, and the unread badge the layout polls."""
from __future__ import annotations

import sqlalchemy as sa
from flask import redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.core.db import transaction
from app.core.htmx import is_htmx
from app.core.pagination import paginate
from app.notifications import services as notifications
from app.notifications.models import Message
from app.web.redirects import same_site_path
from app.web.shop.blueprint import bp


@bp.get("/messages")
@login_required
def messages():
    stmt = sa.select(Message).where(Message.recipient_id == current_user.id).order_by(Message.id.desc())
    page = paginate(stmt, request.args.get("page", 1), 20)
    return render_template("shop/messages/index.html", page=page)


@bp.post("/messages/<int:message_id>/read")
@login_required
def message_read(message_id: int):
    with transaction():
        message = notifications.mark_read(current_user.id, message_id)
    if is_htmx():
        return render_template("shop/messages/_message.html", message=message)
    if same_site_path(message.link):
        return redirect(message.link)
    return redirect(url_for("shop.messages"))


@bp.post("/messages/read-all")
@login_required
def messages_read_all():
    with transaction():
        notifications.mark_all_read(current_user.id)
    return redirect(url_for("shop.messages"))


@bp.get("/messages/unread-count")
def unread_badge():
    """Polled by the layouts (HTMX) to refresh the unread badge."""
    count = notifications.unread_count(current_user.id) if current_user.is_authenticated else 0
    return render_template("components/_unread_badge.html", unread=count)
