"""Withdrawals: the form with a live fee preview, a confirm step that shows the
fee before anything is reserved, and the history.

The confirm step runs the real `withdrawals.request` and rolls it back (a dry
run), so every refusal the request would give (minimum, maximum, balance,
method, account, frozen) is shown before confirming, by the one service that
decides it; confirming runs it again for real in its own transaction."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.core.errors import DomainError
from app.core.money import InvalidAmount, format_yuan, yuan_to_fen
from app.core.pagination import paginate
from app.distribution import policies, queries, withdrawals
from app.distribution import rules as distribution_rules
from app.distribution.labels import METHOD_LABELS
from app.distribution.models import Withdrawal
from app.web.distributor.access import distributor_required, me
from app.web.distributor.blueprint import bp
from app.web.distributor.forms import WithdrawForm
from app.web.forms import attach_errors
from app.web.withdrawal_steps import confirm_or_submit

PER_PAGE = 10


def _page(form: WithdrawForm):
    form.confirm.data = ""  # the form page always leads to the confirm step first
    rules = distribution_rules.current()
    distributor = g.distributor
    history = paginate(sa.select(Withdrawal).where(Withdrawal.distributor_id == distributor.id)
                       .order_by(Withdrawal.id.desc()), request.args.get("page", 1), PER_PAGE)
    earnings = queries.earnings(distributor.id)
    return render_template("distributor/withdrawals.html", form=form, rules=rules, distributor=distributor,
                           earnings=earnings, history=history, method_labels=METHOD_LABELS,
                           preview=fee_preview(form.amount.data, rules, earnings.available_fen))


def _form() -> WithdrawForm:
    form = WithdrawForm(prefix="")
    form.set_methods(distribution_rules.current().withdrawal_methods)
    return form


def fee_preview(raw: str | None, rules, available_fen: int) -> dict:
    """What the fee line under the amount says for `raw` (yuan): the fee and what
    arrives, or why the amount will be refused. Display only: the service decides."""
    raw = (raw or "").strip()
    result = {"fee_bp": rules.withdrawal_fee_bp, "amount_fen": None, "fee_fen": None, "net_fen": None, "problem": None}
    if not raw:
        return result
    try:
        amount = yuan_to_fen(raw)
    except InvalidAmount:
        result["problem"] = _("请输入正确的金额")
        return result
    fee = withdrawals.fee_for(amount)
    result.update(amount_fen=amount, fee_fen=fee, net_fen=amount - fee)
    if amount < rules.withdrawal_min_fen:
        result["problem"] = _("单次提现不能低于 %(min)s", min=format_yuan(rules.withdrawal_min_fen))
    elif amount > rules.withdrawal_max_fen:
        result["problem"] = _("单次提现不能高于 %(max)s", max=format_yuan(rules.withdrawal_max_fen))
    elif amount > available_fen:
        result["problem"] = _("可提现余额不足（可提现 %(yuan)s）", yuan=format_yuan(available_fen))
    return result


@bp.get("/withdrawals")
@distributor_required
def withdrawal_list():
    return _page(_form())


@bp.get("/withdrawals/fee")
@distributor_required
def withdrawal_fee():
    """HTMX: the fee line for the amount being typed."""
    rules = distribution_rules.current()
    preview = fee_preview(request.args.get("amount"), rules, queries.earnings(g.distributor.id).available_fen)
    return render_template("distributor/_fee.html", preview=preview)


@bp.post("/withdrawals")
@distributor_required
def withdrawal_request():
    form = _form()
    if "withdraw" not in policies.actions_for(g.distributor, me()):
        flash(_("分销资格已冻结或未开通，暂不能提现"), "danger")
        return redirect(url_for("distributor.withdrawal_list"))
    if request.form.get("edit") or not form.validate_on_submit():
        return _page(form)
    data = form.service_data()
    try:
        confirm_page, withdrawal = confirm_or_submit(form, lambda: withdrawals.request(me(), data),
                                                     "distributor/withdraw_confirm.html", METHOD_LABELS)
        if confirm_page is not None:
            return confirm_page
    except DomainError as exc:
        if not attach_errors(form, exc, "amount"):
            flash(exc.message, "danger")
        form.confirm.data = ""
        return _page(form)
    flash(_("提现申请已提交，实际到账 %(net)s", net=format_yuan(withdrawal.net_fen)), "success")
    return redirect(url_for("distributor.withdrawal_list"))
