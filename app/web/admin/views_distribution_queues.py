"""Admin 分销管理, the queues: distributor applications (review facts and the
credit formula, approve / reject with a reason), commissions (filters, CSV
export of the filtered rows) and withdrawals (status tabs; approve, mark paid
with the transfer reference, reject with a reason: finance only).

Row actions swap their row over HTMX with a toast, and work as plain form posts
(redirect + flash). Lists run a fixed number of queries whatever the page size."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from urllib.parse import parse_qs, quote, urlparse

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import contains_eager

from app.accounts.models import User
from app.analytics.reports.writers import csv_text
from app.core.clock import SHANGHAI, to_local, utcnow
from app.core.db import transaction
from app.core.errors import DomainError
from app.core.htmx import is_htmx, with_toast
from app.core.labels import labels_for
from app.core.money import fen_to_yuan
from app.core.pagination import paginate
from app.distribution import distributors, queries, withdrawals
from app.distribution.models import Distributor, Withdrawal
from app.distribution.states import DistributorStatus, WithdrawalStatus
from app.extensions import db
from app.web.admin.blueprint import bp
from app.web.admin.views_distribution import actor, distribution_helpers
from app.web.auth import admin_required
from app.web.list_filters import parse_date

CSV_LIMIT = 50_000  # an export larger than this is cut (and says so in its last line)


# --- applications -----------------------------------------------------------------------------

def _applications_context(errors: dict | None = None, values: dict | None = None) -> dict:
    stmt = (sa.select(Distributor).join(User, User.id == Distributor.user_id).options(contains_eager(Distributor.user))
            .where(Distributor.status == DistributorStatus.PENDING)
            .order_by(Distributor.applied_at, Distributor.id))
    page = paginate(stmt, request.args.get("page", 1), request.args.get("per_page", 20))
    return {"page": page, "formula": distributors.CREDIT_FORMULA, "errors": errors or {}, "values": values or {},
            **distribution_helpers()}


@bp.get("/distribution/applications")
@admin_required("distribution.view")
def distribution_applications():
    return render_template("admin/distribution/applications.html", **_applications_context())


def _application_done(distributor_id: int, message: str, level: str = "success"):
    if is_htmx():
        db.session.expire_all()
        distributor = distributors.get(distributor_id)
        return with_toast(render_template("admin/distribution/_application_row.html", d=distributor, done=True,
                                          errors={}, values={}, **distribution_helpers()), message, level)
    flash(message, level)
    return redirect(url_for("admin.distribution_applications"))


def _review(distributor_id: int, action, message: str):
    distributors.get(distributor_id)  # 404 first
    reason = (request.form.get("reason") or "")[:200]
    try:
        with transaction():
            action(reason)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        if exc.fields:  # the reason is missing: the row again, with the message under the field
            errors, values = {distributor_id: exc.fields}, {distributor_id: {"reason": reason}}
            if is_htmx():
                db.session.expire_all()
                html = render_template("admin/distribution/_application_row.html", d=distributors.get(distributor_id),
                                       done=False, errors=errors, values=values, **distribution_helpers())
                return with_toast(html, exc.message, "danger")
            flash(exc.message, "danger")
            return render_template("admin/distribution/applications.html",
                                   **_applications_context(errors, values)), 422
        return _application_done(distributor_id, exc.message, "warning")
    return _application_done(distributor_id, message)


@bp.post("/distribution/applications/<int:distributor_id>/approve")
@admin_required("distribution.manage")
def distribution_applications_approve(distributor_id: int):
    return _review(distributor_id, lambda _reason: distributors.approve(actor(), distributor_id),
                   _("已通过，用户已成为分销商"))


@bp.post("/distribution/applications/<int:distributor_id>/reject")
@admin_required("distribution.manage")
def distribution_applications_reject(distributor_id: int):
    return _review(distributor_id, lambda reason: distributors.reject(actor(), distributor_id, reason),
                   _("已驳回，用户会收到原因，修改后可重新申请"))


# --- commissions ------------------------------------------------------------------------------

def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def commission_filters(args) -> tuple[dict, dict]:
    """(values to echo back, errors) from the query string; a bad value is named and ignored."""
    errors: dict[str, str] = {}
    status = args.get("status", "")
    level = args.get("level", "")
    values = {
        "status": status if status in labels_for("commission").statuses else "",
        "level": level if level in ("1", "2", "3") else "",
        "code": (args.get("code") or "").strip().upper()[:12],
        "order_no": (args.get("order_no") or "").strip()[:32],
        "date_from": (args.get("date_from") or "").strip()[:10],
        "date_to": (args.get("date_to") or "").strip()[:10],
    }
    for key in ("date_from", "date_to"):
        parsed, error = parse_date(values[key])
        if error:
            errors[key] = error
    return values, errors


def commission_stmt(values: dict, errors: dict) -> sa.Select:
    """Each commission with its order number, item title, earner's code and name."""
    date_from = None if "date_from" in errors else parse_date(values["date_from"])[0]
    date_to = None if "date_to" in errors else parse_date(values["date_to"])[0]
    return queries.commission_rows(
        status=values["status"] or None, level=int(values["level"]) if values["level"] else None,
        code=values["code"] or None, order_no=values["order_no"] or None,
        created_from=_day_start(date_from) if date_from else None,
        created_before=_day_start(date_to + timedelta(days=1)) if date_to else None)


@bp.get("/distribution/commissions")
@admin_required("distribution.view")
def distribution_commissions():
    values, errors = commission_filters(request.args)
    page = paginate(commission_stmt(values, errors), request.args.get("page", 1), request.args.get("per_page", 30),
                    scalars=False)
    args = {k: v for k, v in values.items() if v}
    context = {"page": page, "values": values, "errors": errors, "args": args, **distribution_helpers()}
    if is_htmx() and request.headers.get("HX-Target") == "commissions-table":
        return render_template("admin/distribution/_commissions_table.html", **context)
    return render_template("admin/distribution/commissions.html", **context)


def _local(value) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M") if value else ""


@bp.get("/distribution/commissions.csv")
@admin_required("distribution.view")
def distribution_commissions_csv():
    values, errors = commission_filters(request.args)
    rows = db.session.execute(commission_stmt(values, errors).limit(CSV_LIMIT + 1)).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("订单号"), _("商品"), _("层级"), _("分销商推广码"), _("分销商"), _("计佣金额（元）"),
                     _("比例（%）"), _("佣金（元）"), _("已扣回（元）"), _("状态"), _("产生时间"), _("可结算时间"),
                     _("结算时间")])
    words = labels_for("commission")
    for commission, order_no, title, _spec, code, real_name, nickname in rows[:CSV_LIMIT]:
        writer.writerow([
            # Product titles and names are typed by shops and users: never a formula in Excel.
            order_no, csv_text(title), commission.level, code, csv_text(real_name or nickname),
            fen_to_yuan(commission.base_fen),
            f"{commission.rate_bp / 100:g}", fen_to_yuan(commission.amount_fen), fen_to_yuan(commission.void_fen),
            words.label(commission.status), _local(commission.created_at),
            _local(commission.settle_after), _local(commission.settled_at)])
    if len(rows) > CSV_LIMIT:
        writer.writerow([_("只导出了前 %(n)d 条，请缩小筛选范围", n=CSV_LIMIT)])
    # UTF-8 with a BOM: Excel on Windows opens it as UTF-8 only then.
    response = Response(out.getvalue().encode("utf-8-sig"), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    stamp = to_local(utcnow()).strftime("%Y%m%d-%H%M")
    filename = _("佣金明细") + f"-{stamp}.csv"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"commissions-{stamp}.csv\"; filename*=UTF-8''{quote(filename)}")
    return response


# --- withdrawals ------------------------------------------------------------------------------

def _withdrawal_tab() -> str:
    status = request.args.get("status", WithdrawalStatus.REQUESTED)
    return status if status in labels_for("withdrawal").statuses else WithdrawalStatus.REQUESTED


@bp.get("/distribution/withdrawals")
@admin_required("distribution.view")
def distribution_withdrawals():
    status = _withdrawal_tab()
    stmt = (sa.select(Withdrawal).join(Distributor, Distributor.id == Withdrawal.distributor_id)
            .join(User, User.id == Distributor.user_id)
            .options(contains_eager(Withdrawal.distributor).contains_eager(Distributor.user))
            .where(Withdrawal.status == status))
    # The oldest request first while it waits; the latest first once handled.
    stmt = stmt.order_by(Withdrawal.id if status in (WithdrawalStatus.REQUESTED, WithdrawalStatus.APPROVED)
                         else Withdrawal.id.desc())
    page = paginate(stmt, request.args.get("page", 1), request.args.get("per_page", 20))
    context = {"page": page, "status": status, "counts": _withdrawal_counts(), "errors": {}, "values": {}, **distribution_helpers()}
    if is_htmx() and request.headers.get("HX-Target") == "withdrawals-table":
        return render_template("admin/distribution/_withdrawals_table.html", **context)
    return render_template("admin/distribution/withdrawals.html", **context)


def _withdrawal_counts() -> dict[str, int]:
    return dict(db.session.execute(sa.select(Withdrawal.status, sa.func.count(Withdrawal.id))
                                   .group_by(Withdrawal.status)).all())


def _withdrawal_row(withdrawal_id: int, errors: dict | None = None, values: dict | None = None) -> str:
    db.session.expire_all()
    withdrawal = db.session.get(Withdrawal, withdrawal_id)
    return render_template("admin/distribution/_withdrawal_row.html", w=withdrawal,
                           errors=errors or {}, values=values or {}, **distribution_helpers())


def _withdrawal_tabs_oob() -> str:
    """The tabs again, out of band, so their counts follow a row's move to another status."""
    shown = parse_qs(urlparse(request.headers.get("HX-Current-URL", "")).query).get("status", [""])[0]
    status = shown if shown in labels_for("withdrawal").statuses else WithdrawalStatus.REQUESTED
    return render_template("admin/distribution/_withdrawal_tabs.html", status=status, counts=_withdrawal_counts(),
                           oob=True, **distribution_helpers())


def _handle_withdrawal(withdrawal_id: int, action, message: str):
    if db.session.get(Withdrawal, withdrawal_id) is None:
        abort(404)
    values = {withdrawal_id: {"reason": (request.form.get("reason") or "")[:200],
                              "transfer_ref": (request.form.get("transfer_ref") or "")[:64],
                              "paid_from": (request.form.get("paid_from") or "")[:20],
                              "action": request.endpoint}}
    try:
        with transaction():
            withdrawal = action()
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        errors = {withdrawal_id: exc.fields or {}}
        if is_htmx():
            return with_toast(_withdrawal_row(withdrawal_id, errors, values), exc.message, "danger")
        flash(exc.message, "danger")
        status = db.session.get(Withdrawal, withdrawal_id).status
        return redirect(url_for("admin.distribution_withdrawals", status=status))
    if is_htmx():
        return with_toast(_withdrawal_row(withdrawal_id) + _withdrawal_tabs_oob(), message)
    flash(message, "success")
    return redirect(url_for("admin.distribution_withdrawals", status=withdrawal.status))


@bp.post("/distribution/withdrawals/<int:withdrawal_id>/approve")
@admin_required("withdrawals.manage")
def distribution_withdrawals_approve(withdrawal_id: int):
    return _handle_withdrawal(withdrawal_id, lambda: withdrawals.approve(actor(), withdrawal_id),
                              _("已审核通过，请尽快打款并登记流水号"))


@bp.post("/distribution/withdrawals/<int:withdrawal_id>/paid")
@admin_required("withdrawals.manage")
def distribution_withdrawals_paid(withdrawal_id: int):
    ref, paid_from = request.form.get("transfer_ref") or "", request.form.get("paid_from") or ""
    return _handle_withdrawal(withdrawal_id, lambda: withdrawals.mark_paid(actor(), withdrawal_id, ref, paid_from),
                              _("已登记打款，分销商会收到到账通知"))


@bp.post("/distribution/withdrawals/<int:withdrawal_id>/reject")
@admin_required("withdrawals.manage")
def distribution_withdrawals_reject(withdrawal_id: int):
    reason = request.form.get("reason") or ""
    return _handle_withdrawal(withdrawal_id, lambda: withdrawals.reject(actor(), withdrawal_id, reason),
                              _("已驳回，金额已退回分销商的可提现余额"))
