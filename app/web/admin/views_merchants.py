"""Admin shop management (HTMX): the merchant list, a shop's facts and penalty
history, and the platform's actions on it (warning, suspension, closure,
reopening), and finance's own fee rate for the shop (blank: its products' category
rates). Every action also works as a plain form post."""
from __future__ import annotations

from datetime import datetime, time

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.catalog.categories import PLATFORM_FEE_MAX_BP, PLATFORM_FEE_MIN_BP, bp_to_percent
from app.core.clock import SHANGHAI, to_local, utcnow
from app.core.db import transaction
from app.core.errors import DomainError, StaleState
from app.core.htmx import is_htmx, render, with_toast
from app.core.labels import labels_for
from app.merchants import penalties, policies, queries, shops
from app.merchants.labels import BUSINESS_TYPE_LABELS
from app.merchants.states import MemberRole, MerchantStatus
from app.web.admin.blueprint import bp
from app.web.auth import admin_required
from app.web.forms import attach_errors

ACTIONS = ("warn", "suspend", "close", "reopen")


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("原因"), validators=[
        DataRequired(_l("请填写原因")), Length(min=2, max=200, message=_l("请填写原因（2 到 200 个字）")),
    ])


class SuspendForm(ReasonForm):
    until = DateField(_l("恢复日期"), validators=[Optional()])


def actor():
    return current_user._get_current_object()


def _status_param() -> str:
    status = request.args.get("status", "")
    return status if status in tuple(MerchantStatus) else ""


@bp.get("/merchants")
@admin_required("merchants.view")
def merchants():
    q = request.args.get("q", "").strip()
    status = _status_param()
    page = queries.merchant_list(q, status or None, request.args.get("page", 1))
    owners = queries.owners_of([m.id for m in page.items])
    return render("admin/merchants/index.html", "admin/merchants/_table.html",
                  page=page, owners=owners, q=q, status=status, status_choices=labels_for("merchant").choices())


def _forms(forms: dict | None = None) -> dict:
    forms = dict(forms or {})
    for action in ACTIONS:
        if action not in forms:
            forms[action] = SuspendForm(prefix="", formdata=None) if action == "suspend" else ReasonForm(prefix="", formdata=None)
    return forms


def _panel_context(merchant, forms: dict | None = None, active: str | None = None) -> dict:
    return {
        "merchant": merchant, "forms": _forms(forms), "active_action": active,
        "history": penalties.history(merchant.id), "actions": policies.actions_for(merchant, actor()),
        "today": to_local(utcnow()).date().isoformat(),
    }


def _fee_context(merchant, typed: str | None = None, error: str | None = None) -> dict:
    """The shop's fee rate row: what is set, and the form for those who may change it
    (what was typed and why it was refused, when it was)."""
    return {"percent": bp_to_percent, "may_set_fee": policies.may_set_fee(actor()),
            "fee_value": bp_to_percent(merchant.platform_fee_bp) if typed is None else typed, "fee_error": error,
            "fee_range": (bp_to_percent(PLATFORM_FEE_MIN_BP), bp_to_percent(PLATFORM_FEE_MAX_BP))}


def _detail(merchant, forms: dict | None = None, active: str | None = None, status: int = 200,
            fee: dict | None = None):
    members = shops.staff_of(merchant.id)
    owner = next((m.user for m in members if m.role == MemberRole.OWNER), None)
    staff_count = sum(1 for m in members if m.role == MemberRole.STAFF)
    return render_template(
        "admin/merchants/detail.html", owner=owner, staff_count=staff_count,
        business_type_labels=BUSINESS_TYPE_LABELS, **_panel_context(merchant, forms, active),
        **(fee or _fee_context(merchant)),
    ), status


def _panel(merchant, forms: dict | None = None, active: str | None = None) -> str:
    """The status/actions panel plus the history, swapped out of band (HTMX)."""
    return render_template("admin/merchants/_panel.html", **_panel_context(merchant, forms, active))


@bp.get("/merchants/<int:merchant_id>")
@admin_required("merchants.view")
def merchants_detail(merchant_id: int):
    return _detail(shops.get_merchant(merchant_id))


def _until(form: SuspendForm) -> datetime | None:
    """A date means the end of that day in Asia/Shanghai, like the user ban."""
    if not form.until.data:
        return None
    return datetime.combine(form.until.data, time(23, 59, 59), tzinfo=SHANGHAI)


def _success_message(action: str, name: str) -> str:
    return {
        "warn": _("已警告「%(name)s」，店主已收到通知", name=name),
        "suspend": _("「%(name)s」已暂停营业", name=name),
        "close": _("「%(name)s」已关闭", name=name),
        "reopen": _("「%(name)s」已恢复营业", name=name),
    }[action]


def _act(merchant_id: int, action: str):
    merchant = shops.get_merchant(merchant_id)
    name = merchant.name
    form = SuspendForm(prefix="") if action == "suspend" else ReasonForm(prefix="")
    if form.validate_on_submit():
        try:
            with transaction():
                if action == "suspend":
                    penalties.suspend(actor(), merchant_id, form.reason.data, _until(form))
                else:
                    {"warn": penalties.warn, "close": penalties.close, "reopen": penalties.reopen}[action](
                        actor(), merchant_id, form.reason.data)
        except StaleState:
            merchant = shops.get_merchant(merchant_id)
            message = _("操作未执行：店铺当前为「%(status)s」，请按最新状态重新操作",
                        status=labels_for("merchant").label(merchant.status))
            if is_htmx():
                return with_toast(_panel(merchant), message, "danger")
            flash(message, "danger")
            return redirect(url_for("admin.merchants_detail", merchant_id=merchant_id))
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            if not attach_errors(form, exc, default_field="reason"):
                flash(exc.message, "danger")
        else:
            message = _success_message(action, name)
            merchant = shops.get_merchant(merchant_id)
            if is_htmx():
                return with_toast(_panel(merchant), message)
            flash(message, "success")
            return redirect(url_for("admin.merchants_detail", merchant_id=merchant_id))
    merchant = shops.get_merchant(merchant_id)
    if is_htmx():
        errors = [e for f in form for e in f.errors]
        return with_toast(_panel(merchant, {action: form}, action), errors[0] if errors else _("请检查输入"), "danger")
    return _detail(merchant, {action: form}, action, status=422)


@bp.post("/merchants/<int:merchant_id>/warn")
@admin_required("merchants.penalise")
def merchants_warn(merchant_id: int):
    return _act(merchant_id, "warn")


@bp.post("/merchants/<int:merchant_id>/suspend")
@admin_required("merchants.penalise")
def merchants_suspend(merchant_id: int):
    return _act(merchant_id, "suspend")


@bp.post("/merchants/<int:merchant_id>/close")
@admin_required("merchants.penalise")
def merchants_close(merchant_id: int):
    return _act(merchant_id, "close")


@bp.post("/merchants/<int:merchant_id>/reopen")
@admin_required("merchants.penalise")
def merchants_reopen(merchant_id: int):
    return _act(merchant_id, "reopen")


@bp.post("/merchants/<int:merchant_id>/fee")
@admin_required("fees.edit")
def merchants_set_fee(merchant_id: int):
    """平台服务费率 for this shop: a percentage, or blank for its products' category rates."""
    shops.get_merchant(merchant_id)
    raw = request.form.get("platform_fee") or ""
    try:
        with transaction():
            merchant = shops.set_platform_fee(actor(), merchant_id, raw)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        error = (exc.fields or {}).get("platform_fee", exc.message)
        merchant = shops.get_merchant(merchant_id)
        fee = _fee_context(merchant, raw.strip()[:12], error)
        if is_htmx():
            return with_toast(render_template("admin/merchants/_fee.html", merchant=merchant, **fee), exc.message,
                              "danger")
        return _detail(merchant, status=422, fee=fee)
    if merchant.platform_fee_bp is None:
        message = _("「%(name)s」的平台服务费率改为按商品类目费率", name=merchant.name)
    else:
        message = _("「%(name)s」的平台服务费率已设为 %(p)s%%", name=merchant.name,
                    p=bp_to_percent(merchant.platform_fee_bp))
    if is_htmx():
        return with_toast(render_template("admin/merchants/_fee.html", merchant=merchant, **_fee_context(merchant)),
                          message)
    flash(message, "success")
    return redirect(url_for("admin.merchants_detail", merchant_id=merchant_id))
