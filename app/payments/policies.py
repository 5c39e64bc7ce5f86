"""Who may do what to a refund now.

A refund moves by its gateway's word (`services.apply_refund_status`), which no person
may do. The one act a person does is `settle_offline`: when the gateway could not pay a
refund back (abnormal: the buyer's card is closed), finance (`refunds.settle`; super
admins may do everything) pays the buyer another way and records it with a note.

Services refuse through `require`; the admin refund lists draw their form from
`actions_for`, so the same rule decides both.
"""
from __future__ import annotations

from flask_babel import gettext as _

from app.accounts.policies import can
from app.core.errors import Forbidden, StaleState
from app.payments.models import Refund
from app.payments.states import REFUND_LIFECYCLE

SETTLE_REFUNDS = "refunds.settle"
REFUND_ADMIN_ACTS = ("settle_offline",)


def _possible(refund: Refund, actor) -> tuple[str, ...]:
    """Every act this actor may ever do to a refund, whatever its state."""
    return REFUND_ADMIN_ACTS if can(actor, SETTLE_REFUNDS) else ()


def actions_for(refund: Refund, actor) -> tuple[str, ...]:
    """The acts `actor` may do to `refund` now, in the lifecycle's order."""
    possible = _possible(refund, actor)
    return tuple(a for a in REFUND_LIFECYCLE.acts_from(refund.status) if a in possible)


def require(refund: Refund, actor, act_name: str) -> None:
    """Refuse `act_name` unless `actor` may do it to `refund` now: Forbidden when they may
    never do it, StaleState when they may but not from the state it is in."""
    if act_name not in _possible(refund, actor):
        raise Forbidden(_("没有权限执行此操作"))
    if act_name not in actions_for(refund, actor):
        raise StaleState(_("状态已变化，请刷新后重试"), act=act_name, found=refund.status,
                         lifecycle=REFUND_LIFECYCLE.name)
