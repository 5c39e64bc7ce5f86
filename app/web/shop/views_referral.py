"""Referral links: `/r/<code>` (the shop) and `/r/<code>/p/<product_id>` (a product).

Opening a link remembers the code in the session, with the time and whether it
came from a QR code (`?s=qr`, which the QR codes encode), and lands on the page.
The binding itself is made when the visitor signs in or registers: `sign_in`
(views_auth) takes the remembered code before it clears the session and calls
`bind_remembered` inside the sign-in transaction. A visitor who is already
signed in is bound on the spot. Refusals (own code, own downline, an inactive
or unknown code) are only logged: a referral never stands in a sign-in's way.
"""
from __future__ import annotations

import logging
import time

from flask import redirect, request, session, url_for
from flask_login import current_user

from app.core.db import transaction
from app.core.errors import DomainError
from app.distribution import distributors, referrals
from app.distribution.states import BindingSource, DistributorStatus
from app.extensions import db
from app.web.shop.blueprint import bp

log = logging.getLogger(__name__)

SESSION_KEY = "referral"
# A remembered code older than this binds no one (a shared computer, a stale tab).
REMEMBER_SECONDS = 7 * 86400


def _source() -> str:
    return BindingSource.QR if request.args.get("s") == "qr" else BindingSource.LINK


def _remember(code: str) -> None:
    distributor = distributors.by_code(code)
    if distributor is None or distributor.status != DistributorStatus.ACTIVE:
        log.info("referral link with unknown or inactive code %r", code[:20])
        return
    remembered = {"code": distributor.code, "source": _source(), "at": int(time.time())}
    if current_user.is_authenticated:
        with transaction():
            bind_remembered(current_user._get_current_object(), remembered, is_new_user=False)
        return
    session[SESSION_KEY] = remembered


@bp.get("/r/<code>")
def referral_shop(code: str):
    _remember(code)
    return redirect(url_for("shop.home"))


@bp.get("/r/<code>/p/<int:product_id>")
def referral_product(code: str, product_id: int):
    _remember(code)
    return redirect(url_for("shop.product_page", product_id=product_id))


def take_remembered() -> dict | None:
    """The remembered referral (removed from the session), if it is still fresh."""
    remembered = session.pop(SESSION_KEY, None)
    if not isinstance(remembered, dict) or not isinstance(remembered.get("code"), str):
        return None
    try:
        age = time.time() - int(remembered.get("at", 0))
    except (TypeError, ValueError):
        return None
    return remembered if 0 <= age <= REMEMBER_SECONDS else None


def bind_remembered(user, remembered: dict | None, is_new_user: bool) -> None:
    """Bind `user` to the remembered code, inside the caller's transaction; a
    refusal is logged and changes nothing."""
    if not remembered:
        return
    try:
        with db.session.begin_nested():
            referrals.bind(user, remembered["code"], remembered.get("source") or BindingSource.LINK,
                           is_new_user=is_new_user)
    except DomainError as exc:
        log.info("referral %s not bound for user %s: %s", remembered.get("code"), user.id, exc.code)
