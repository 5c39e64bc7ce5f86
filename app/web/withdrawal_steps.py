"""The two steps both withdrawal forms (a shop's 资金 and a distributor's 提现) take:
what the service would make, shown for confirmation, then the request itself."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import render_template

from app.core.db import transaction
from app.extensions import db


def confirm_or_submit(form, make: Callable[[], Any], confirm_template: str, method_labels: dict):
    """Without `confirm` in the form: `make()` is run and rolled back, and the confirm page
    shows the amount, fee and net it came to (nothing is written). With it: `make()` in its
    own transaction. Returns (confirm page, None) or (None, the withdrawal made); a
    DomainError from the service passes through, with nothing written either way."""
    if form.confirm.data != "1":
        try:
            withdrawal = make()
            amount, fee = withdrawal.amount_fen, withdrawal.fee_fen
        finally:
            db.session.rollback()
        return render_template(confirm_template, form=form, amount_fen=amount, fee_fen=fee, net_fen=amount - fee,
                               method_labels=method_labels), None
    with transaction():
        withdrawal = make()
    return None, withdrawal
