"""Who may do what with a shop's money (docs/finance.md, "Shops' money (资金) and withdrawals").

- Every member of a shop (owner and staff) sees its 资金 page: balances, statement, exports
  and withdrawals.
- Only the shop's owner may ask for a withdrawal (`may_withdraw`): the money goes to an
  account the requester types, which is the owner's decision, as settings and staff are
  (app/merchants/policies.py). And only while the shop is open (a suspended or closed
  shop's money stays until the platform reopens it).
- A withdrawal's review acts (approve, mark paid, reject) are finance's: admins with
  `withdrawals.manage` (the finance role; super admins may do everything).

`actions_for(withdrawal, actor)` is the acts its lifecycle allows from its state, narrowed
by who asks; services refuse through `require`, the admin queue draws its buttons from
`actions_for`, so one rule decides both.
"""
from __future__ import annotations

from flask_babel import gettext as _

from app.accounts.policies import can
from app.core.errors import Forbidden, StaleState
from app.finance.models import MerchantWithdrawal
from app.finance.withdrawal_states import MERCHANT_WITHDRAWAL_LIFECYCLE
from app.merchants import policies as merchant_policies
from app.merchants.models import MerchantMember

REVIEW_WITHDRAWALS = "withdrawals.manage"
FINANCE_ACTS = ("approve", "mark_paid", "reject")


def may_withdraw(member: MerchantMember | None) -> bool:
    """May this member of a shop ask for its money: the owner only."""
    return merchant_policies.is_owner(member)


def may_review(actor) -> bool:
    return can(actor, REVIEW_WITHDRAWALS)


def actions_for(withdrawal: MerchantWithdrawal, actor) -> tuple[str, ...]:
    """The acts `actor` may do to `withdrawal` now, in the lifecycle's order."""
    if not may_review(actor):
        return ()
    return tuple(a for a in MERCHANT_WITHDRAWAL_LIFECYCLE.acts_from(withdrawal.status) if a in FINANCE_ACTS)


def require(withdrawal: MerchantWithdrawal, actor, act_name: str) -> None:
    """Forbidden when `actor` may never do `act_name`, StaleState when not from this state."""
    if act_name not in FINANCE_ACTS or not may_review(actor):
        raise Forbidden(_("没有权限执行此操作"))
    if act_name not in actions_for(withdrawal, actor):
        raise StaleState(_("状态已变化，请刷新后重试"), act=act_name, found=withdrawal.status,
                         lifecycle=MERCHANT_WITHDRAWAL_LIFECYCLE.name)
