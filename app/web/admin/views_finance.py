"""Admin 财务 → 商家提现: the shops' withdrawals queue (status tabs with counts, pages),
approve, reject with a reason, mark paid with the transfer reference and the gateway
account it was paid from (each offered with what it holds). Finance and super admins
only (`withdrawals.manage`), the queue as well as its acts: it shows shops' bank details.

Row actions swap their row over HTMX with a toast (and the tabs out of band), and work as
plain form posts (redirect + flash). The list runs a fixed number of queries whatever
the page size."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import contains_eager

from app.core.db import transaction
from app.core.errors import DomainError
from app.core.htmx import is_htmx, with_toast
from app.core.labels import labels_for
from app.core.pagination import paginate
from app.extensions import db
from app.finance import merchant_withdrawals, payouts, policies
from app.finance.labels import METHOD_SHORT, gateway_label
from app.finance.models import MerchantWithdrawal
from app.finance.withdrawal_states import IN_PROGRESS, MerchantWithdrawalStatus
from app.merchants.models import Merchant
from app.web.admin.blueprint import bp
from app.web.admin.views_distribution import actor
from app.web.auth import admin_required

PERMISSION = policies.REVIEW_WITHDRAWALS


def _helpers() -> dict:
    return {"mw_statuses": labels_for("merchant_withdrawal").choices(), "mw_method_labels": METHOD_SHORT,
            "mw_actions": lambda w: policies.actions_for(w, actor()), "gateway_label": gateway_label}


@bp.app_context_processor
def finance_sidebar():
    def admin_requested_merchant_withdrawals() -> int:
        return db.session.scalar(sa.select(sa.func.count(MerchantWithdrawal.id))
                                 .where(MerchantWithdrawal.status == MerchantWithdrawalStatus.REQUESTED)) or 0

    return {"admin_requested_merchant_withdrawals": admin_requested_merchant_withdrawals}


def _status(raw: str | None) -> str:
    return raw if raw in labels_for("merchant_withdrawal").statuses else MerchantWithdrawalStatus.REQUESTED


def _counts() -> dict[str, int]:
    return dict(db.session.execute(sa.select(MerchantWithdrawal.status, sa.func.count(MerchantWithdrawal.id))
                                   .group_by(MerchantWithdrawal.status)).all())


def _paying_accounts() -> list[tuple[str, int]]:
    return payouts.paying_accounts()


@bp.get("/finance/merchant-withdrawals")
@admin_required(PERMISSION)
def merchant_withdrawals_queue():
    status = _status(request.args.get("status"))
    stmt = (sa.select(MerchantWithdrawal).join(Merchant, Merchant.id == MerchantWithdrawal.merchant_id)
            .options(contains_eager(MerchantWithdrawal.merchant)).where(MerchantWithdrawal.status == status))
    # The oldest first while it waits; the latest first once handled.
    stmt = stmt.order_by(MerchantWithdrawal.id if status in IN_PROGRESS else MerchantWithdrawal.id.desc())
    page = paginate(stmt, request.args.get("page", 1), request.args.get("per_page", 20))
    context = {"page": page, "status": status, "counts": _counts(), "errors": {}, "values": {},
               "paying_accounts": _paying_accounts() if status == MerchantWithdrawalStatus.APPROVED else [],
               **_helpers()}
    if is_htmx() and request.headers.get("HX-Target") == "mw-table":
        return render_template("admin/finance/_withdrawals_table.html", **context)
    return render_template("admin/finance/merchant_withdrawals.html", **context)


def _row(withdrawal_id: int, errors: dict | None = None, values: dict | None = None) -> str:
    db.session.expire_all()
    withdrawal = db.session.get(MerchantWithdrawal, withdrawal_id)
    return render_template("admin/finance/_withdrawal_row.html", w=withdrawal, errors=errors or {},
                           values=values or {}, paying_accounts=_paying_accounts(), **_helpers())


def _tabs_oob() -> str:
    """The tabs again, out of band, so their counts follow a row's move to another status."""
    shown = parse_qs(urlparse(request.headers.get("HX-Current-URL", "")).query).get("status", [""])[0]
    return render_template("admin/finance/_withdrawal_tabs.html", status=_status(shown), counts=_counts(), oob=True,
                           **_helpers())


def _handle(withdrawal_id: int, action, message: str):
    if db.session.get(MerchantWithdrawal, withdrawal_id) is None:
        abort(404)
    values = {withdrawal_id: {"reason": (request.form.get("reason") or "")[:200],
                              "transfer_ref": (request.form.get("transfer_ref") or "")[:64],
                              "paid_from": (request.form.get("paid_from") or "")[:20]}}
    try:
        with transaction():
            withdrawal = action()
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        if is_htmx():
            return with_toast(_row(withdrawal_id, {withdrawal_id: exc.fields or {}}, values), exc.message, "danger")
        flash(exc.message, "danger")
        status = db.session.get(MerchantWithdrawal, withdrawal_id).status
        return redirect(url_for("admin.merchant_withdrawals_queue", status=status))
    if is_htmx():
        return with_toast(_row(withdrawal_id) + _tabs_oob(), message)
    flash(message, "success")
    return redirect(url_for("admin.merchant_withdrawals_queue", status=withdrawal.status))


@bp.post("/finance/merchant-withdrawals/<int:withdrawal_id>/approve")
@admin_required(PERMISSION)
def merchant_withdrawals_approve(withdrawal_id: int):
    return _handle(withdrawal_id, lambda: merchant_withdrawals.approve(actor(), withdrawal_id),
                   _("已审核通过，请尽快打款并登记流水号"))


@bp.post("/finance/merchant-withdrawals/<int:withdrawal_id>/paid")
@admin_required(PERMISSION)
def merchant_withdrawals_paid(withdrawal_id: int):
    ref, paid_from = request.form.get("transfer_ref") or "", request.form.get("paid_from") or ""
    return _handle(withdrawal_id, lambda: merchant_withdrawals.mark_paid(actor(), withdrawal_id, ref, paid_from),
                   _("已登记打款，店铺会收到到账通知"))


@bp.post("/finance/merchant-withdrawals/<int:withdrawal_id>/reject")
@admin_required(PERMISSION)
def merchant_withdrawals_reject(withdrawal_id: int):
    reason = request.form.get("reason") or ""
    return _handle(withdrawal_id, lambda: merchant_withdrawals.reject(actor(), withdrawal_id, reason),
                   _("已驳回，金额已退回店铺的可提现余额"))
