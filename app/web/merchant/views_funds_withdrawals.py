"""资金 → 提现: the shop's withdrawal form with a live fee line, a confirm step that shows
the fee before anything is held, the shop's withdrawal history and one withdrawal with its
timeline.

The confirm step runs the real `merchant_withdrawals.request` and rolls it back (a dry
run), so every refusal the request would give (minimum, balance, method, account, a
suspended shop, a member who is not the owner) shows before confirming, decided by the one
service; confirming runs it again for real in its own transaction. Every member sees the
history; only the owner gets the form (app/finance/policies.py)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField
from wtforms.validators import Length

from app.core.errors import DomainError
from app.core.models import StateChange
from app.core.money import format_yuan
from app.core.pagination import paginate
from app.extensions import db
from app.finance import merchant_funds, policies
from app.finance import merchant_withdrawals as withdrawals
from app.finance.labels import METHOD_LABELS, METHOD_SHORT
from app.finance.models import MerchantWithdrawal
from app.finance.withdrawal_states import MERCHANT_WITHDRAWAL_LIFECYCLE
from app.web.forms import attach_errors
from app.web.merchant.blueprint import bp
from app.web.merchant.context import merchant_required
from app.web.withdrawal_steps import confirm_or_submit

PER_PAGE = 10


class MerchantWithdrawForm(FlaskForm):
    amount = StringField(_l("提现金额（元）"), validators=[Length(max=20)])
    method = RadioField(_l("提现方式"), choices=[(m, METHOD_LABELS[m]) for m in withdrawals.METHODS],
                        default=withdrawals.METHODS[0], validate_choice=False)
    account_name = StringField(_l("收款户名"), validators=[Length(max=60)])
    account_no = StringField(_l("收款账号"), validators=[Length(max=60)])
    bank_name = StringField(_l("开户银行"), validators=[Length(max=60)])
    confirm = HiddenField()

    def service_data(self) -> dict:
        return {"amount": (self.amount.data or "").strip(), "method": self.method.data or "",
                "account_name": self.account_name.data or "", "account_no": self.account_no.data or "",
                "bank_name": self.bank_name.data or ""}


def fee_preview(raw: str | None, available_fen: int) -> dict:
    """The line under the amount for `raw` (yuan): the fee and what arrives, or why the
    amount will be refused. Display only: the service decides."""
    raw = (raw or "").strip()
    minimum = withdrawals.minimum_fen()
    result = {"fee_bp": withdrawals.fee_bp(), "min_fen": minimum, "amount_fen": None, "fee_fen": None,
              "net_fen": None, "problem": None}
    if not raw:
        return result
    try:
        amount = withdrawals.parse_amount(raw)
    except DomainError as exc:
        result["problem"] = exc.message
        return result
    fee = withdrawals.fee_for(amount)
    result.update(amount_fen=amount, fee_fen=fee, net_fen=amount - fee)
    if amount < minimum:
        result["problem"] = _("单次提现不能低于 %(min)s", min=format_yuan(minimum))
    elif amount > available_fen:
        result["problem"] = _("可提现余额不足（可提现 %(yuan)s）", yuan=format_yuan(available_fen))
    return result


def _page(form: MerchantWithdrawForm):
    form.confirm.data = ""  # the form always leads to the confirm step first
    balances = merchant_funds.balances(g.merchant.id)
    history = paginate(sa.select(MerchantWithdrawal).where(MerchantWithdrawal.merchant_id == g.merchant.id)
                       .order_by(MerchantWithdrawal.id.desc()), request.args.get("page", 1), PER_PAGE)
    return render_template("merchant/funds/withdrawals.html", form=form, balances=balances, history=history,
                           may_withdraw=policies.may_withdraw(g.member), shop_open=g.merchant.is_active,
                           method_labels=METHOD_SHORT, preview=fee_preview(form.amount.data, balances.available_fen))


@bp.get("/funds/withdrawals")
@merchant_required()
def funds_withdrawals():
    return _page(MerchantWithdrawForm(prefix=""))


@bp.get("/funds/withdrawals/fee")
@merchant_required()
def funds_withdrawal_fee():
    """HTMX: the fee line for the amount being typed."""
    preview = fee_preview(request.args.get("amount"), merchant_funds.balances(g.merchant.id).available_fen)
    return render_template("merchant/funds/_fee.html", preview=preview)


@bp.post("/funds/withdrawals")
@merchant_required()
def funds_withdrawal_request():
    form = MerchantWithdrawForm(prefix="")
    if not policies.may_withdraw(g.member):
        abort(403)
    if request.form.get("edit") or not form.validate_on_submit():
        return _page(form)
    data = form.service_data()
    try:
        confirm_page, withdrawal = confirm_or_submit(
            form, lambda: withdrawals.request(current_user, g.merchant.id, data),
            "merchant/funds/withdraw_confirm.html", METHOD_SHORT)
        if confirm_page is not None:
            return confirm_page
    except DomainError as exc:
        if exc.status == 403:
            abort(403)
        if not attach_errors(form, exc, "amount"):
            flash(exc.message, "danger")
        form.confirm.data = ""
        return _page(form), 422
    flash(_("提现申请已提交，实际到账 %(net)s", net=format_yuan(withdrawal.net_fen)), "success")
    return redirect(url_for("merchant.funds_withdrawal_detail", withdrawal_id=withdrawal.id))


@bp.get("/funds/withdrawals/<int:withdrawal_id>")
@merchant_required()
def funds_withdrawal_detail(withdrawal_id: int):
    try:
        withdrawal = withdrawals.get_for_shop(g.merchant.id, withdrawal_id)
    except DomainError:
        abort(404)
    timeline = db.session.scalars(sa.select(StateChange).where(
        StateChange.entity == MERCHANT_WITHDRAWAL_LIFECYCLE.name, StateChange.entity_id == withdrawal.id)
        .order_by(StateChange.id)).all()
    return render_template("merchant/funds/withdrawal_detail.html", w=withdrawal, timeline=timeline,
                           method_labels=METHOD_SHORT)
