"""Who may do what to a distributor or a withdrawal now.

`actions_for(thing, actor)` is the acts of the thing's lifecycle (states.py) allowed
from its current state, narrowed by who asks:

- a withdrawal: finance admins (`withdrawals.manage`) approve, mark paid and reject;
  the distributor who asked may do nothing more to it (they wait for finance);
- a distributor: operators (`distribution.manage`) approve or reject an application,
  grant, freeze and unfreeze; the distributor themselves may `withdraw` and `share` while
  active and `reapply` after a rejection.

Services refuse through `require`, the admin queues and the distributor centre draw
their buttons from `actions_for`, so the same rule decides both.
"""
from __future__ import annotations

from flask_babel import gettext as _

from app.accounts.policies import can
from app.core.errors import Forbidden, StaleState
from app.distribution.models import Distributor, Withdrawal
from app.distribution.states import DISTRIBUTOR_LIFECYCLE, WITHDRAWAL_LIFECYCLE, DistributorStatus

REVIEW_WITHDRAWALS = "withdrawals.manage"
MANAGE_DISTRIBUTORS = "distribution.manage"
WITHDRAWAL_FINANCE_ACTS = ("approve", "mark_paid", "reject")
DISTRIBUTOR_ADMIN_ACTS = ("approve", "reject", "grant", "freeze", "unfreeze")
# What a distributor does as themselves (not lifecycle acts except `reapply`).
OWN_ACTS_WHEN_ACTIVE = ("withdraw", "share")


def _is_self(distributor: Distributor, actor) -> bool:
    return actor is not None and getattr(actor, "id", None) == distributor.user_id


def _possible(thing, actor) -> tuple[str, ...]:
    """Every act this actor may ever do to this kind of thing, whatever its state."""
    if isinstance(thing, Withdrawal):
        return WITHDRAWAL_FINANCE_ACTS if can(actor, REVIEW_WITHDRAWALS) else ()
    if isinstance(thing, Distributor):
        acts = DISTRIBUTOR_ADMIN_ACTS if can(actor, MANAGE_DISTRIBUTORS) else ()
        if _is_self(thing, actor):
            acts += ("reapply", *OWN_ACTS_WHEN_ACTIVE)
        return acts
    raise TypeError(f"no distribution policy for {type(thing).__name__}")


def actions_for(thing: Distributor | Withdrawal, actor) -> tuple[str, ...]:
    """The acts `actor` may do to `thing` now, in the lifecycle's order."""
    possible = _possible(thing, actor)
    if isinstance(thing, Withdrawal):
        return tuple(a for a in WITHDRAWAL_LIFECYCLE.acts_from(thing.status) if a in possible)
    acts = tuple(a for a in DISTRIBUTOR_LIFECYCLE.acts_from(thing.status) if a in possible)
    if thing.status == DistributorStatus.ACTIVE:
        acts += tuple(a for a in OWN_ACTS_WHEN_ACTIVE if a in possible)
    return acts


def require(thing: Distributor | Withdrawal, actor, act_name: str) -> None:
    """Refuse `act_name` unless `actor` may do it to `thing` now: Forbidden when they may
    never do it, StaleState when they may but not from the state it is in."""
    if act_name not in _possible(thing, actor):
        raise Forbidden(_("没有权限执行此操作"))
    if act_name not in actions_for(thing, actor):
        lifecycle = WITHDRAWAL_LIFECYCLE if isinstance(thing, Withdrawal) else DISTRIBUTOR_LIFECYCLE
        raise StaleState(_("状态已变化，请刷新后重试"), act=act_name, found=thing.status, lifecycle=lifecycle.name)
