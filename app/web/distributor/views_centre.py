"""The centre page: what a user sees depends on the rules and their row.

- Distribution off and not yet a distributor: "未开放".
- `everyone`: opening the centre makes them active (distributors.open_centre).
- `application`: the apply form; "审核中" while pending; the reason and the form
  again after a rejection.
- `spend_threshold`: their paid spend against the threshold.
- Active or frozen: the centre itself (earnings, shortcuts, code); frozen shows
  the reason and no withdrawals.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core.db import transaction
from app.core.errors import DomainError
from app.distribution import distributors, queries
from app.distribution import rules as distribution_rules
from app.distribution.states import DistributorStatus, Qualification
from app.web.distributor.access import CENTRE_STATUSES, me, shop_link
from app.web.distributor.blueprint import bp
from app.web.distributor.forms import ApplyForm
from app.web.forms import attach_errors


def _qualify_page(distributor, rules, form: ApplyForm | None = None):
    """The page for someone who is not (yet) in the centre."""
    if not rules.enabled:
        return render_template("distributor/closed.html", distributor=distributor, rules=rules)
    if rules.qualification == Qualification.APPLICATION or (distributor is not None
                                                              and distributor.status == DistributorStatus.PENDING):
        if form is None:
            form = ApplyForm(prefix="")
            if distributor is not None and distributor.status == DistributorStatus.REJECTED:
                form.real_name.data, form.phone.data, form.reason.data = (distributor.real_name, distributor.phone,
                                                                          distributor.reason)
            elif not form.phone.data and current_user.local_phone:
                form.phone.data = current_user.local_phone
        return render_template("distributor/apply.html", distributor=distributor, rules=rules, form=form)
    if rules.qualification == Qualification.SPEND_THRESHOLD:
        spent = distributors.paid_spend_fen(current_user.id)
        return render_template("distributor/threshold.html", distributor=distributor, rules=rules, spent_fen=spent,
                               missing_fen=max(0, rules.spend_threshold_fen - spent))
    # `everyone` with a row that is neither pending nor in the centre: a rejection before the mode changed.
    return render_template("distributor/closed.html", distributor=distributor, rules=rules)


@bp.get("/")
@login_required
def centre():
    with transaction():
        distributor = distributors.open_centre(me())
    rules = distribution_rules.current()
    if distributor is None or distributor.status not in CENTRE_STATUSES:
        return _qualify_page(distributor, rules)
    return render_template("distributor/centre.html", distributor=distributor, rules=rules,
                           earnings=queries.earnings(distributor.id), counts=queries.team_count(distributor.id),
                           link=shop_link(distributor))


@bp.post("/apply")
@login_required
def apply():
    form = ApplyForm(prefix="")
    rules = distribution_rules.current()
    distributor = distributors.for_user(current_user.id)
    if form.validate_on_submit():
        try:
            with transaction():
                distributors.apply(me(), {"real_name": form.real_name.data, "phone": form.phone.data,
                                          "reason": form.reason.data})
            flash(_("申请已提交，请耐心等待审核"), "success")
            return redirect(url_for("distributor.centre"))
        except DomainError as exc:
            if not attach_errors(form, exc):
                flash(exc.message, "danger")
                return redirect(url_for("distributor.centre"))
        distributor = distributors.for_user(current_user.id)
    return _qualify_page(distributor, rules, form=form)
