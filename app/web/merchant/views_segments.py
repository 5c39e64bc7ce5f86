"""客户分群: the current shop's customer segments (app/web/segment_pages.py), from
`g.merchant` only: the shop's own buyers and visitors, their names masked and never a
phone number. Members (owner and staff) look and send in-site messages while the shop is
open; never SMS."""
from __future__ import annotations

from flask import g
from flask_login import current_user

from app.analytics.segments import policies
from app.web import segment_pages
from app.web.merchant.blueprint import bp
from app.web.merchant.context import merchant_required


def surface() -> segment_pages.Surface:
    return segment_pages.Surface("merchant", g.merchant.id, may_message=policies.may_message_shop(g.merchant))


@bp.get("/stats/segments")
@merchant_required()
def segments():
    return segment_pages.render_page(surface())


@bp.post("/stats/segments/recompute")
@merchant_required()
def segments_recompute():
    return segment_pages.recompute(surface(), current_user.id)


@bp.get("/stats/segments/jobs/<int:job_id>")
@merchant_required()
def segments_job(job_id: int):
    return segment_pages.job_block(surface(), job_id)


@bp.get("/stats/segments/<int:segment_id>/members")
@merchant_required()
def segments_members(segment_id: int):
    return segment_pages.render_members(surface(), segment_id)


@bp.route("/stats/segments/<int:segment_id>/message", methods=["GET", "POST"])
@merchant_required()
def segments_message(segment_id: int):
    sender = policies.shop_sender(current_user.id, g.merchant)
    return segment_pages.render_message(surface(), segment_id, sender)
