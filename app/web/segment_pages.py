"""客户分群 pages, shared by /admin/stats/segments (the platform) and /merchant/stats/segments
(the member's own shop): the current run's segments with a chart, the on-demand recompute
with its progress bar, each segment's members (masked), the message form with its
confirmation, and the history of sends (app/analytics/segments/).

The views in app/web/admin/views_segments.py and app/web/merchant/views_segments.py say
who is asking (`Surface`); everything here works on that scope only.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.accounts.models import User
from app.analytics.segments import clustering, messaging, naming, runs
from app.analytics.segments.models import SegmentMember
from app.analytics.segments.policies import Sender
from app.core import tracked_jobs
from app.core.db import transaction
from app.core.errors import Conflict, NotFound
from app.core.errors import ValidationError as DomainValidationError
from app.core.htmx import is_htmx, with_toast
from app.core.pagination import paginate
from app.core.tracked_jobs import TrackedJob
from app.extensions import db
from app.web.forms import attach_errors
from app.web.redirects import same_site_path

HISTORY_PER_PAGE = 10
MEMBERS_PER_PAGE = 20


@dataclass(frozen=True)
class Surface:
    """Who is looking: `name` is the blueprint ("admin" or "merchant"), `merchant_id` the
    scope (None: the platform), and what this person may do there."""

    name: str
    merchant_id: int | None
    may_message: bool
    may_sms: bool = False
    shows_phone: bool = False  # admins see a masked phone beside the name

    def url(self, what: str = "", **values) -> str:
        return url_for(f"{self.name}.segments" + (f"_{what}" if what else ""), **values)

    def template(self, page: str) -> str:
        return f"{self.name}/stats/{page}.html"


# --- the page ----------------------------------------------------------------------------------


def segment_view(segment) -> dict:
    profile = segment.profile or {}
    return {"id": segment.id, "name": naming.label(segment.kind, segment.variant, profile.get("variant_of", 0)),
            "kind": segment.kind, "size": segment.size, "share": profile.get("share", 0), "profile": profile,
            "line": naming.profile_line(profile),
            "tastes": [{"name": naming.category_name(c), "share": c["share"]} for c in profile.get("categories", [])]}


def render_page(surface: Surface):
    run = runs.current(surface.merchant_id)
    recompute = db.session.scalars(_recompute_jobs(surface.merchant_id).limit(1)).first()
    if recompute is not None and recompute.finished and (
            recompute.succeeded or (run is not None and recompute.finished_at and recompute.finished_at < run.computed_at)):
        recompute = None  # its result is the run shown (or an older failure the run replaced)
    history = paginate(messaging.history(surface.merchant_id), request.args.get("page", 1), HISTORY_PER_PAGE)
    segments = [segment_view(s) for s in run.segments] if run is not None else []
    chart = {"labels": {"share": _("客户数")}, "share": [{"name": s["name"], "value": s["size"]} for s in segments]}
    return render_template(surface.template("segments"), surface=surface, run=run, segments=segments,
                           recompute=recompute, history=history, charts=chart, cap=messaging.cap(),
                           min_customers=clustering.MIN_CUSTOMERS)


def _recompute_jobs(merchant_id: int | None) -> sa.Select:
    if merchant_id is None:
        return tracked_jobs.for_platform(runs.RECOMPUTE_KIND)
    return tracked_jobs.for_shop(runs.RECOMPUTE_KIND, merchant_id)


def recompute(surface: Surface, user_id: int):
    with transaction():
        job, started = runs.request_recompute(user_id, surface.merchant_id)
    message = _("已开始重新计算客户分群") if started else _("客户分群正在计算中，请稍候")
    db.session.refresh(job)  # jobs run inline (the embedded default): it may have finished already
    if is_htmx():
        response = with_toast(render_template("backoffice/segments/_recompute.html", surface=surface, job=job),
                              message, "success" if started else "info")
        if job.succeeded:
            response.headers["HX-Refresh"] = "true"
        return response
    flash(message, "success" if started else "info")
    return redirect(surface.url())


def job_block(surface: Surface, job_id: int):
    """The polled progress block of one of the scope's jobs (another scope's: 404)."""
    job = db.session.get(TrackedJob, job_id)
    if job is None or job.kind not in (runs.RECOMPUTE_KIND, messaging.SEND_KIND):
        raise NotFound()
    job = tracked_jobs.get_scoped(job.kind, job_id, surface.merchant_id)
    if job.kind == messaging.SEND_KIND:
        return render_template("backoffice/segments/_send.html", surface=surface, job=job)
    response = make_response(render_template("backoffice/segments/_recompute.html", surface=surface, job=job))
    if job.succeeded:
        response.headers["HX-Refresh"] = "true"  # the new run: reload the page to show it
    return response


# --- members -----------------------------------------------------------------------------------


def masked_name(user: User) -> str:
    """A customer's name as a shop sees it: its first character and ** (已注销用户 when deleted)."""
    if user.is_deleted:
        return user.display_name
    name = user.nickname or _("用户")
    return name[0] + "**"


def render_members(surface: Surface, segment_id: int):
    segment = messaging.load_segment(segment_id, surface.merchant_id)
    stmt = (sa.select(SegmentMember, User).join(User, User.id == SegmentMember.user_id)
            .where(SegmentMember.segment_id == segment.id)
            .order_by(SegmentMember.monetary_fen.desc(), SegmentMember.views.desc(), SegmentMember.user_id))
    page = paginate(stmt, request.args.get("page", 1), MEMBERS_PER_PAGE, scalars=False)
    rows = [{"name": masked_name(user), "phone": user.phone if surface.shows_phone else None, "member": member}
            for member, user in page.items]
    return render_template(surface.template("segment_members"), surface=surface, segment=segment_view(segment),
                           page=page, rows=rows)


# --- messages ----------------------------------------------------------------------------------


def _on_site(form, field) -> None:
    if field.data and same_site_path(field.data) is None:
        raise ValidationError(_("链接只能是本站页面的地址，例如 /products/12"))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SegmentMessageForm(FlaskForm):
    title = StringField(_l("标题"), filters=[_strip], validators=[
        DataRequired(_l("请填写标题")), Length(max=messaging.TITLE_MAX, message=_l("标题最多 40 个字"))])
    body = TextAreaField(_l("内容"), filters=[_strip], validators=[
        DataRequired(_l("请填写内容")), Length(max=messaging.BODY_MAX, message=_l("内容最多 200 个字"))])
    link = StringField(_l("点击后打开（选填）"), filters=[_strip], validators=[
        Optional(), Length(max=messaging.LINK_MAX, message=_l("链接太长")), _on_site])
    sms = BooleanField(_l("同时发送短信（只发给有手机号的用户）"))
    run_id = HiddenField()
    send_key = HiddenField()


def render_message(surface: Surface, segment_id: int, sender: Sender):
    """The form (GET), its confirmation with how many it would reach (POST), and the
    start of the send (POST with confirm=1)."""
    segment = messaging.load_segment(segment_id, surface.merchant_id)
    form = SegmentMessageForm()
    context = {"surface": surface, "segment": segment_view(segment), "cap": messaging.cap()}
    if request.method == "GET":
        form.run_id.data, form.send_key.data = str(segment.run_id), uuid.uuid4().hex
        return _message_page(surface, form, context, "write")
    if not form.validate():
        return _message_page(surface, form, context, "write", 422)
    draft = messaging.Draft(title=form.title.data, body=form.body.data, link=form.link.data or None,
                            sms=bool(form.sms.data))
    try:
        messaging.check(draft, sender)
    except DomainValidationError as exc:
        if not attach_errors(form, exc):
            form.form_errors.append(exc.message)
        return _message_page(surface, form, context, "write", 422)
    if str(segment.run_id) != (form.run_id.data or ""):
        form.form_errors.append(_("客户分群已重新计算，请查看最新的分群后再发送"))
        return _message_page(surface, form, context, "write", 409)
    if request.form.get("confirm") != "1" or request.form.get("edit"):
        step = "write" if request.form.get("edit") else "confirm"
        return _message_page(surface, form, {**context, "audience": messaging.audience(segment)}, step)
    try:
        with transaction():
            job, started = messaging.start(sender, segment.id, int(form.run_id.data), draft, form.send_key.data or "")
    except Conflict as exc:
        flash(exc.message, "warning")
        return redirect(surface.url())
    flash(_("消息已开始发送，可在下方发送记录查看进度") if started else _("这条消息已经在发送了"), "success")
    return redirect(surface.url() + "#segment-sends")


def _message_page(surface: Surface, form: SegmentMessageForm, context: dict, step: str, status: int = 200):
    return render_template(surface.template("segment_message"), form=form, step=step, **context), status
