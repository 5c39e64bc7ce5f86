"""The merchant the signed-in user is working in now.

The choice lives in the session (`merchant_id`) but is only a preference: every
request re-reads the user's memberships from `MerchantMember`, so staff who are
removed lose access on their next request, and a forged or stale id is refused
with a 404 (the shop's existence is not revealed to outsiders).
"""
from __future__ import annotations

from functools import wraps

from flask import abort, g, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core.errors import NotFound
from app.merchants import policies, queries
from app.merchants.models import Merchant, MerchantMember

SESSION_KEY = "merchant_id"


def memberships() -> list[MerchantMember]:
    """The signed-in user's memberships (with their merchants), read once per request."""
    if "merchant_memberships" not in g:
        g.merchant_memberships = queries.memberships_of(current_user.id) if current_user.is_authenticated else []
    return g.merchant_memberships


def current_membership() -> MerchantMember | None:
    """The membership of the merchant chosen in the session, else the first one.

    Raises NotFound when the session names a shop the user no longer belongs to;
    the stale choice is forgotten, so the next request starts afresh. A request
    meant for one shop is never quietly carried out in another.
    """
    mine = memberships()
    chosen = session.get(SESSION_KEY)
    if chosen is not None:
        for member in mine:
            if member.merchant_id == chosen:
                return member
        session.pop(SESSION_KEY, None)
        raise NotFound(_("你已不是这家店铺的成员，或店铺不存在"), code="merchant_not_found")
    if not mine:
        return None
    session[SESSION_KEY] = mine[0].merchant_id
    return mine[0]


def load_current() -> MerchantMember | None:
    """Resolve the current merchant into `g.member` and `g.merchant` (None when the user has no shop)."""
    member = current_membership()
    g.member = member
    g.merchant = member.merchant if member is not None else None
    return member


def merchant_required(owner_only: bool = False):
    """Only members of the current merchant: users without a shop go to /merchant/,
    a shop they do not belong to is a 404, staff on owner-only pages get a 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            member = load_current()
            if member is None:
                return redirect(url_for("merchant.home"))
            if owner_only and not policies.may_manage_shop(member):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def switch_to(merchant_id: int) -> Merchant:
    """Make `merchant_id` the current merchant; only one the user belongs to (else NotFound)."""
    for member in memberships():
        if member.merchant_id == merchant_id:
            session[SESSION_KEY] = merchant_id
            g.member, g.merchant = member, member.merchant
            return member.merchant
    raise NotFound(_("店铺不存在"), code="merchant_not_found")


def is_owner() -> bool:
    return policies.may_manage_shop(g.get("member"))
