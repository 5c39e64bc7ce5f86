"""Who may do what with a shop, an application or a shop's status.

Staff do everything but staff and settings; only the owner manages those.
`actions_for(thing, actor)` answers "what may this actor do to this now": the acts
the lifecycle allows from the current state (`app.merchants.states`), narrowed by who
asks. Services refuse through `require`, pages draw their buttons from the same answer.

- An application: its applicant may `edit` and `submit` it while it is a draft or
  rejected; a reviewer (`merchants.review`) may `approve` or `reject` it once submitted.
- A shop's status: an admin with `merchants.penalise` may `warn` an open or suspended
  shop, `suspend` or `close` it, and `reopen` a suspended or closed one (`lift`, the end
  of a dated suspension, is the periodic job's, never a person's).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from app.accounts import policies as account_policies
from app.core.errors import Forbidden, StaleState
from app.extensions import db
from app.merchants.errors import MerchantError
from app.merchants.models import Merchant, MerchantApplication, MerchantMember
from app.merchants.states import (
    APPLICATION_LIFECYCLE,
    EDITABLE_APPLICATION_STATUSES,
    MERCHANT_LIFECYCLE,
    MemberRole,
    MerchantStatus,
)

APPLICANT_ACTS = ("edit", "submit")
REVIEWER_ACTS = ("approve", "reject")
# In the order the admin's shop panel offers them (the first is the open tab).
MERCHANT_ACTS = ("reopen", "warn", "suspend", "close")
WARNABLE = (MerchantStatus.ACTIVE, MerchantStatus.SUSPENDED)


def membership(user_id: int, merchant_id: int) -> MerchantMember | None:
    return db.session.scalar(
        sa.select(MerchantMember).where(MerchantMember.user_id == user_id, MerchantMember.merchant_id == merchant_id)
    )


def is_owner(member: MerchantMember | None) -> bool:
    return member is not None and member.role == MemberRole.OWNER


def may_manage_shop(member: MerchantMember | None) -> bool:
    """Settings, staff and API keys: the owner only."""
    return is_owner(member)


def may_review(actor) -> bool:
    return account_policies.can(actor, "merchants.review")


def may_penalise(actor) -> bool:
    return account_policies.can(actor, "merchants.penalise")


def may_set_fee(actor) -> bool:
    """A shop's own platform fee rate is money: finance (and super) admins only."""
    return account_policies.can(actor, "fees.edit")


def _is_applicant(application: MerchantApplication, actor) -> bool:
    return actor is not None and getattr(actor, "id", None) == application.applicant_id


def _application_actions(application: MerchantApplication, actor) -> tuple[str, ...]:
    allowed = APPLICATION_LIFECYCLE.acts_from(application.status)
    acts: list[str] = []
    if _is_applicant(application, actor):
        if application.status in EDITABLE_APPLICATION_STATUSES:
            acts.append("edit")
        acts += [a for a in allowed if a in APPLICANT_ACTS]
    if may_review(actor):
        acts += [a for a in allowed if a in REVIEWER_ACTS]
    return tuple(acts)


def _merchant_actions(merchant: Merchant, actor) -> tuple[str, ...]:
    if not may_penalise(actor):
        return ()
    allowed = set(MERCHANT_LIFECYCLE.acts_from(merchant.status))
    if merchant.status in WARNABLE:
        allowed.add("warn")
    return tuple(a for a in MERCHANT_ACTS if a in allowed)


def actions_for(thing: MerchantApplication | Merchant, actor) -> tuple[str, ...]:
    """The acts `actor` may do to an application or a shop now, by name."""
    if isinstance(thing, MerchantApplication):
        return _application_actions(thing, actor)
    if isinstance(thing, Merchant):
        return _merchant_actions(thing, actor)
    raise TypeError(f"no merchant policy for {type(thing).__name__}")


def require(thing: MerchantApplication | Merchant, actor, act_name: str) -> None:
    """Refuse unless `actor` may do `act_name` to `thing` now: Forbidden when they may
    never do it, StaleState (naming the act and the state found) when not in this state."""
    if act_name in actions_for(thing, actor):
        return
    if isinstance(thing, MerchantApplication):
        if act_name in REVIEWER_ACTS and not may_review(actor):
            raise Forbidden(_("你没有审核入驻申请的权限"), code=MerchantError.FORBIDDEN)
        lifecycle = APPLICATION_LIFECYCLE
    else:
        if not may_penalise(actor):
            raise Forbidden(_("你没有处罚店铺的权限"), code=MerchantError.FORBIDDEN)
        lifecycle = MERCHANT_LIFECYCLE
    raise StaleState(_("状态已变化，请刷新后重试"), act=act_name, found=thing.status, lifecycle=lifecycle.name)
