"""财务: the finance dashboard (money in, refunds, fees, what is owed, paid out; a daily
chart; the latest reconciliations) and reconciliation (对账): the runs, a run's differences
with what to do and a form to mark each handled (HTMX), and a form to reconcile a day with
the gateways' bills uploaded. Finance and super admins only (`finance.view`,
`finance.reconcile`); operators, merchants and buyers are refused."""
from __future__ import annotations

from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.db import transaction
from app.core.errors import DomainError, ValidationError
from app.core.htmx import is_htmx, with_toast
from app.extensions import db
from app.finance import bills as bill_files
from app.finance import overview, reconciliation
from app.finance.reconciliation_models import ReconciliationDifference
from app.finance.reconciliation_states import (
    DIFFERENCE_ADVICE,
    DIFFERENCE_LABELS,
    INTERNAL_KINDS,
    TRIGGER_LABELS,
    RunTrigger,
)
from app.payments.labels import provider_name
from app.web import date_ranges
from app.web.admin.blueprint import bp
from app.web.auth import admin_required

BILL_FIELDS = (("wechatpay", "wechat_bill"), ("alipay", "alipay_bill"))
# Each bill uploaded here: both fit in one request under the app's MAX_CONTENT_LENGTH (20 MB),
# whose 413 page is what a bigger request gets. A bigger bill goes through
# `flask finance reconcile` (bills.MAX_BILL_BYTES).
MAX_UPLOAD_BYTES = 9 * 1024 * 1024


def finance_helpers() -> dict:
    return {"difference_label": lambda kind: DIFFERENCE_LABELS.get(kind, kind),
            "difference_advice": lambda kind: DIFFERENCE_ADVICE.get(kind, ""),
            "is_internal": lambda kind: kind in INTERNAL_KINDS,
            "trigger_label": lambda trigger: TRIGGER_LABELS.get(trigger, trigger),
            "provider_label": provider_name}


@bp.get("/finance")
@admin_required("finance.view")
def finance_dashboard():
    rng = date_ranges.parse(request.args)
    figures = overview.figures(rng.first, rng.last)
    latest = overview.latest_runs()
    chart = {"x": [d.strftime("%m-%d") for d in figures.days],
             "money_in": [round(f / 100, 2) for f in figures.daily_in],
             "refunds": [round(f / 100, 2) for f in figures.daily_refunds],
             "labels": {"money_in": _("收款（元）"), "refunds": _("退款（元）")}}
    return render_template("admin/finance/dashboard.html", rng=rng, figures=figures, chart=chart,
                           runs=latest, open_counts=overview.open_counts([r.id for r in latest]),
                           presets=date_ranges.PRESET_LABELS, **finance_helpers())


def _reconcile_form(errors: dict | None = None, values: dict | None = None, status: int = 200):
    page = overview.runs(request.args.get("page", 1), request.args.get("per_page", 20))
    yesterday = (reconciliation.today() - timedelta(days=1)).isoformat()
    return render_template("admin/finance/reconciliation.html", page=page,
                           open_counts=overview.open_counts([r.id for r in page.items]), errors=errors or {},
                           values=values or {"day": yesterday}, max_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
                           today=reconciliation.today().isoformat(), **finance_helpers()), status


@bp.get("/finance/reconciliation")
@admin_required("finance.view")
def finance_reconciliation():
    return _reconcile_form()


def _read_uploads() -> tuple[list, dict[str, str], dict[str, str]]:
    """The bills uploaded with the form, parsed: (bills, filenames, errors by field)."""
    bills, filenames, errors = [], {}, {}
    for provider, name in BILL_FIELDS:
        upload = request.files.get(name)
        if not upload or not upload.filename:
            continue
        data = upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            errors[name] = _("账单文件不能超过 %(n)d MB，更大的账单请用命令行对账", n=MAX_UPLOAD_BYTES // (1024 * 1024))
            continue
        try:
            bills.append((provider, bill_files.parse(provider, data)))
            filenames[provider] = upload.filename[:100]
        except ValidationError as exc:
            errors[name] = exc.message
    return bills, filenames, errors


@bp.post("/finance/reconciliation")
@admin_required("finance.reconcile")
def finance_reconciliation_start():
    raw_day = (request.form.get("day") or "").strip()[:10]
    values = {"day": raw_day}
    try:
        day = date.fromisoformat(raw_day) if date_ranges.ISO_DAY.fullmatch(raw_day) else None
    except ValueError:
        day = None
    bills, filenames, errors = _read_uploads()
    if day is None:
        errors["day"] = _("请选择要对账的日期")
    if errors:
        return _reconcile_form(errors, values, 422)
    try:
        with transaction():
            run = reconciliation.reconcile(day, bills, current_user._get_current_object(),
                                           trigger=RunTrigger.ADMIN, filenames=filenames)
            run_id, count = run.id, run.difference_count
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        return _reconcile_form(exc.fields or {"day": exc.message}, values, 422)
    if count:
        flash(_("对账完成，发现 %(n)d 处差异", n=count), "warning")
    else:
        flash(_("对账完成，没有发现差异"), "success")
    return redirect(url_for("admin.finance_reconciliation_run", run_id=run_id))


@bp.get("/finance/reconciliation/<int:run_id>")
@admin_required("finance.view")
def finance_reconciliation_run(run_id: int):
    run = overview.run_with_differences(run_id)
    if run is None:
        abort(404)
    return render_template("admin/finance/run.html", run=run, diff_errors={}, diff_values={}, **finance_helpers())


def _difference_row(difference_id: int, errors: dict | None = None, values: dict | None = None) -> str:
    db.session.expire_all()
    d = db.session.get(ReconciliationDifference, difference_id)
    return render_template("admin/finance/_difference.html", d=d, diff_errors=errors or {},
                           diff_values=values or {}, **finance_helpers())


@bp.post("/finance/differences/<int:difference_id>/handle")
@admin_required("finance.reconcile")
def finance_reconciliation_handle(difference_id: int):
    difference = db.session.get(ReconciliationDifference, difference_id)
    if difference is None:
        abort(404)
    back = url_for("admin.finance_reconciliation_run", run_id=difference.run_id, _anchor=f"difference-{difference_id}")
    note = (request.form.get("note") or "")[:500]
    try:
        with transaction():
            reconciliation.mark_handled(current_user._get_current_object(), difference_id, note)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        if is_htmx():
            return with_toast(_difference_row(difference_id, {difference_id: exc.fields or {"note": exc.message}},
                                              {difference_id: {"note": note[:200]}}), exc.message, "danger")
        flash(exc.message, "danger")
        return redirect(back)
    message = _("已标记为已处理")
    if is_htmx():
        return with_toast(_difference_row(difference_id), message)
    flash(message, "success")
    return redirect(back)
