"""Admin system pages: outbound messages (failed or stuck in the queue, retry), audit log, platform settings."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.models import User
from app.core import settings as platform_settings
from app.core.db import transaction
from app.core.errors import DomainError
from app.core.htmx import is_htmx, render, with_toast
from app.core.labels import labels_for
from app.core.models import AuditLog
from app.core.pagination import paginate
from app.extensions import db
from app.notifications import policies as outbound_policies
from app.notifications import queries as outbound_queries
from app.notifications import services as notifications
from app.notifications.labels import CHANNEL_LABELS
from app.notifications.models import OutboundMessage
from app.notifications.states import Channel, OutboundStatus
from app.web.admin.blueprint import bp
from app.web.auth import admin_required


@bp.app_context_processor
def sidebar_counts():
    return {"admin_failed_count": outbound_queries.failed_count}


@bp.get("/outbound")
@admin_required("jobs.view")
def outbound():
    status = request.args.get("status", OutboundStatus.FAILED)
    channel = request.args.get("channel", "")
    stmt = sa.select(OutboundMessage).order_by(OutboundMessage.id.desc())
    if status in tuple(OutboundStatus):
        stmt = stmt.where(OutboundMessage.status == status)
    if channel in tuple(Channel):
        stmt = stmt.where(OutboundMessage.channel == channel)
    page = paginate(stmt, request.args.get("page", 1), 20)
    labels = labels_for("outbound_message")
    tabs = [(s, labels.label(s)) for s in (OutboundStatus.FAILED, OutboundStatus.QUEUED, OutboundStatus.SENT)]
    return render("admin/outbound/index.html", "admin/outbound/_table.html", page=page, status=status, channel=channel,
                  tabs=[*tabs, ("all", _("全部"))], **_row_context())


def _row_context() -> dict:
    """What `admin/outbound/_row.html` needs, on the list and after a retry."""
    return {"outbound_actions": lambda row: outbound_policies.actions_for(row, current_user),
            "channel_labels": CHANNEL_LABELS}


@bp.post("/outbound/<int:outbound_id>/retry")
@admin_required("jobs.retry")
def outbound_retry(outbound_id: int):
    """Queue a failed message again, or one stuck in `queued` (its job lost while Redis was down)."""
    was = db.session.scalar(sa.select(OutboundMessage.status).where(OutboundMessage.id == outbound_id))
    with transaction():
        row = notifications.retry_outbound(current_user._get_current_object(), outbound_id)
    if is_htmx():
        return with_toast(render_template("admin/outbound/_row.html", row=row, **_row_context()),
                          _("已重新加入发送队列"))
    flash(_("已重新加入发送队列"), "success")
    return redirect(url_for("admin.outbound", status=was or OutboundStatus.FAILED))


@bp.get("/audit")
@admin_required("audit.view")
def audit_log():
    action = request.args.get("action", "")
    target = request.args.get("target", "")
    stmt = sa.select(AuditLog).order_by(AuditLog.id.desc())
    if action:
        stmt = stmt.where(AuditLog.action.startswith(action, autoescape=True))
    if target:
        kind, _sep, ident = target.partition(":")
        stmt = stmt.where(AuditLog.target_type == kind)
        if ident:
            stmt = stmt.where(AuditLog.target_id == ident)
    page = paginate(stmt, request.args.get("page", 1), 30)
    actor_ids = {row.actor_id for row in page.items if row.actor_id}
    actors = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
    return render("admin/audit/index.html", "admin/audit/_table.html", page=page, actors=actors,
                  action=action, target=target)


@bp.route("/settings", methods=["GET", "POST"])
@admin_required("settings.edit")
def settings():
    errors: dict[str, str] = {}
    values = platform_settings.all_values()
    if request.method == "POST":
        try:
            with transaction():
                for key, definition in platform_settings.DEFINITIONS.items():
                    if definition.kind is not bool and key not in request.form:
                        continue  # a field the form did not send keeps its value (an unticked box is "off")
                    raw = request.form.get(key, "off")
                    platform_settings.put(key, raw, current_user._get_current_object())
            flash(_("设置已保存"), "success")
            return redirect(url_for("admin.settings"))
        except DomainError as exc:
            errors = exc.fields or {"_": exc.message}
            values.update({k: request.form.get(k) for k in platform_settings.DEFINITIONS})
            flash(exc.message, "danger")
    return render_template("admin/settings.html", definitions=platform_settings.DEFINITIONS, values=values,
                           errors=errors), (422 if errors else 200)
