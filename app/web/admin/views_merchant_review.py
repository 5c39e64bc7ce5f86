"""Admin review of merchant applications (HTMX): the queue with its sidebar
badge, the detail with documents and the applicant's facts, approve / reject.

Decisions work as plain form posts (redirect + flash) and with HTMX (the
decision panel is swapped, the timeline and status badge follow out of band,
the result comes as a toast). Of two admins deciding at once the loser is
told the application was already handled."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.accounts.models import SignInEvent, User
from app.core.clock import as_utc, utcnow
from app.core.db import transaction
from app.core.errors import DomainError, StaleState, ValidationError
from app.core.htmx import is_htmx, with_toast
from app.core.labels import labels_for
from app.extensions import db
from app.merchants import applications, policies, queries
from app.merchants.models import ApplicationEvent, MerchantApplication
from app.merchants.states import APPLICATION_FIELDS, ApplicationStatus, BusinessType
from app.web.admin.blueprint import bp
from app.web.auth import admin_required

QUEUE_DEFAULT = ApplicationStatus.SUBMITTED
QUEUE_STATUSES = (ApplicationStatus.SUBMITTED, ApplicationStatus.APPROVED, ApplicationStatus.REJECTED, "all")


@bp.app_context_processor
def merchant_review_sidebar():
    return {"admin_pending_applications": queries.pending_review_count}


def _actor():
    return current_user._get_current_object()


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _queue_filters() -> dict:
    status = request.args.get("status") or QUEUE_DEFAULT
    business_type = request.args.get("business_type") or ""
    since, until = _parse_date(request.args.get("since")), _parse_date(request.args.get("until"))
    if since and until and since > until:
        since, until = until, since
    return {
        "status": status if status in QUEUE_STATUSES else QUEUE_DEFAULT,
        "business_type": business_type if business_type in tuple(BusinessType) else "",
        "since": since.isoformat() if since else "",
        "until": until.isoformat() if until else "",
    }


@bp.get("/merchant-applications")
@admin_required("merchants.view")
def merchant_applications():
    filters = _queue_filters()
    page = queries.review_queue(
        filters["status"], filters["business_type"] or None, _parse_date(filters["since"]),
        _parse_date(filters["until"]), request.args.get("page", 1),
    )
    template = "admin/merchant_applications/index.html"
    if is_htmx() and not request.headers.get("HX-Boosted"):
        template = "admin/merchant_applications/_table.html"
    return render_template(template, page=page, filters=filters, now=utcnow(), queue_default=QUEUE_DEFAULT,
                           queue_choices=_queue_choices())


def _queue_choices() -> list[tuple[str, str]]:
    words = labels_for("merchant_application")
    return [(s, words.label(s)) for s in QUEUE_STATUSES if s != "all"] + [("all", _("全部状态"))]


def _load(application_id: int) -> MerchantApplication:
    application = applications.get_for_review(application_id)
    # The timeline with its actors in one more query, not one per event.
    db.session.scalars(sa.select(ApplicationEvent).options(selectinload(ApplicationEvent.actor))
                       .where(ApplicationEvent.application_id == application.id)).all()
    return application


def applicant_facts(user: User, application: MerchantApplication) -> dict:
    """What a reviewer weighs about the person behind the application."""
    sign_ins = db.session.scalar(sa.select(sa.func.count(SignInEvent.id)).where(SignInEvent.user_id == user.id)) or 0
    others = db.session.scalar(sa.select(sa.func.count(MerchantApplication.id)).where(
        MerchantApplication.applicant_id == user.id, MerchantApplication.id != application.id)) or 0
    return {
        "age_days": max(0, (utcnow() - as_utc(user.created_at)).days),
        "sign_ins": sign_ins,
        "last_login_at": user.last_login_at,
        "other_applications": others,
        "shops": queries.memberships_of(user.id),
        "orders": 0,  # the orders domain does not exist yet; count them here once it does
    }


def _panel_context(application: MerchantApplication, errors: dict | None = None, values: dict | None = None) -> dict:
    return {"application": application, "reject_errors": errors or {}, "reject_values": values or {},
            "review_fields": APPLICATION_FIELDS, "actions": policies.actions_for(application, _actor())}


@bp.get("/merchant-applications/<int:application_id>")
@admin_required("merchants.view")
def merchant_applications_detail(application_id: int):
    return _detail_page(_load(application_id))


def _detail_page(application: MerchantApplication, errors: dict | None = None, values: dict | None = None,
                 status: int = 200):
    return render_template(
        "admin/merchant_applications/detail.html", facts=applicant_facts(application.applicant, application),
        **_panel_context(application, errors, values),
    ), status


def _decided(application_id: int, message: str, level: str = "success"):
    """The answer after a decision (or a refused one): the fresh panel for HTMX, else redirect + flash."""
    if is_htmx():
        application = _load(application_id)
        html = render_template("admin/merchant_applications/_decision_swap.html", **_panel_context(application))
        return with_toast(html, message, level)
    flash(message, level)
    return redirect(url_for("admin.merchant_applications_detail", application_id=application_id))


def _stale_message(application_id: int) -> str:
    """The losing side of a race (or a second click): who decided is in the timeline."""
    db.session.expire_all()
    application = applications.get_for_review(application_id)
    if application.status == ApplicationStatus.DRAFT:
        return _("申请还没有提交，不能审核")
    if application.decided_by_id == current_user.id:
        return _("这份申请你已经处理过了")
    return _("已被其他管理员处理")


@bp.post("/merchant-applications/<int:application_id>/approve")
@admin_required("merchants.review")
def merchant_applications_approve(application_id: int):
    application = applications.get_for_review(application_id)
    name = application.shop_name
    try:
        with transaction():
            applications.approve(_actor(), application_id)
    except StaleState:
        return _decided(application_id, _stale_message(application_id), "warning")
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        return _decided(application_id, exc.message, "danger")
    return _decided(application_id, _("已通过，店铺「%(name)s」已开通", name=name))


def _reject_input() -> tuple[dict[str, str], str, dict]:
    """The reasons per ticked field (a reason typed without a tick counts too) and the note."""
    ticked = set(request.form.getlist("fields"))
    reasons: dict[str, str] = {}
    values: dict = {"fields": ticked, "note": request.form.get("note", "")}
    for field in APPLICATION_FIELDS:
        reason = (request.form.get(f"reason_{field}") or "").strip()
        values[f"reason_{field}"] = reason
        if field in ticked or reason:
            reasons[field] = reason
            values["fields"].add(field)
    return reasons, values["note"], values


@bp.post("/merchant-applications/<int:application_id>/reject")
@admin_required("merchants.review")
def merchant_applications_reject(application_id: int):
    applications.get_for_review(application_id)
    reasons, note, values = _reject_input()
    try:
        with transaction():
            applications.reject(_actor(), application_id, reasons, note)
    except StaleState:
        return _decided(application_id, _stale_message(application_id), "warning")
    except ValidationError as exc:
        application = _load(application_id)
        if is_htmx():
            html = render_template("admin/merchant_applications/_decision.html",
                                   **_panel_context(application, exc.fields, values))
            return with_toast(html, exc.message, "danger")
        return _detail_page(application, exc.fields, values, 422)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        return _decided(application_id, exc.message, "danger")
    return _decided(application_id, _("已驳回，申请人会收到通知"))
