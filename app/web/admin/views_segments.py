"""客户分群: the platform's customer segments (app/web/segment_pages.py). Looking needs
`stats.view`; messages to a segment need `segments.message` (operators, super admins),
and only here may an SMS go with them."""
from __future__ import annotations

from flask_login import current_user

from app.analytics.segments import policies
from app.web import segment_pages
from app.web.admin.blueprint import bp
from app.web.auth import admin_required


def surface() -> segment_pages.Surface:
    may_message = policies.may_message_platform(current_user)
    return segment_pages.Surface("admin", None, may_message=may_message, may_sms=may_message, shows_phone=True)


@bp.get("/stats/segments")
@admin_required("stats.view")
def segments():
    return segment_pages.render_page(surface())


@bp.post("/stats/segments/recompute")
@admin_required("stats.view")
def segments_recompute():
    return segment_pages.recompute(surface(), current_user.id)


@bp.get("/stats/segments/jobs/<int:job_id>")
@admin_required("stats.view")
def segments_job(job_id: int):
    return segment_pages.job_block(surface(), job_id)


@bp.get("/stats/segments/<int:segment_id>/members")
@admin_required("stats.view")
def segments_members(segment_id: int):
    return segment_pages.render_members(surface(), segment_id)


@bp.route("/stats/segments/<int:segment_id>/message", methods=["GET", "POST"])
@admin_required("segments.message")
def segments_message(segment_id: int):
    sender = policies.platform_sender(current_user)
    return segment_pages.render_message(surface(), segment_id, sender)
