"""Who may do what to an after-sale request now: the one place that says it.

`actions_for(aftersale, actor)` lists the act names this actor may do now (the API's
`"actions"`, the pages' buttons); `require(aftersale, actor, act)` refuses the rest.
The status table (`states.py`) says what can happen from a status at all; this narrows
it by who asks:

- The **buyer** may `cancel` (withdraw) while the shop has not refunded or sent a
  replacement; `ship_back` once approved for a return; `reapply` (edited) after a
  rejection, or after a close for not shipping back, at most `MAX_REAPPLY` times and
  only while the item's window lasts; `escalate` (平台介入) after a rejection or when
  the shop let its deadline for a returned parcel pass; `confirm_replacement` once the
  exchange replacement is shipped.
- The **merchant** (a member of the shop with an order role) may `approve` (return
  kinds: pick a return address), `refund` (approve a refund-only, or refund at once
  whatever the kind) or `reject` a pending request; once the parcel is back, `receive`
  it (restock or not): a return is then refunded, an exchange waits for
  `ship_replacement`. While disputed the shop may `state` its side.
- The **platform** (an admin whose role grants `aftersales.rule`: operators and super
  admins; finance only reads) `rule`s on a disputed request and writes in its thread.
- Deadlines (the system) make the table's acts for whoever is silent (deadlines.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flask_babel import gettext as _

from app.accounts.policies import role_can
from app.aftersales.errors import AfterSaleError
from app.aftersales.models import AfterSale
from app.aftersales.states import AFTERSALE_LIFECYCLE, MAX_REAPPLY, RETURN_KINDS, AfterSaleKind, AfterSaleStatus
from app.core.clock import utcnow
from app.core.errors import Forbidden, StaleState
from app.orders.policies import SHIPPING_ROLES

S = AfterSaleStatus


class Audience(StrEnum):
    BUYER = "buyer"
    MERCHANT = "merchant"
    ADMIN = "admin"


class Act(StrEnum):
    """What can be done to a request, by the names the API's `actions` carry."""

    CANCEL = "cancel"
    SHIP_BACK = "ship_back"
    REAPPLY = "reapply"
    ESCALATE = "escalate"
    CONFIRM_REPLACEMENT = "confirm_replacement"
    APPROVE = "approve"
    REFUND = "refund"
    REJECT = "reject"
    RECEIVE = "receive"  # the returned parcel arrived (then refund, or ship a replacement)
    SHIP_REPLACEMENT = "ship_replacement"
    STATE = "state"  # the shop's statement in a dispute (not a move)
    MESSAGE = "message"  # a line in the dispute thread (not a move)
    RULE = "rule"


@dataclass(frozen=True)
class Actor:
    audience: Audience
    user_id: int | None
    merchant_id: int | None = None
    role: str | None = None


def buyer(user_id: int) -> Actor:
    return Actor(Audience.BUYER, user_id)


def staff(member) -> Actor:
    """A shop member as they act in the console (`g.member`) or an API key's owner."""
    if member is None:
        return Actor(Audience.MERCHANT, None)
    return Actor(Audience.MERCHANT, member.user_id, member.merchant_id, member.role)


RULE_PERMISSION = "aftersales.rule"


def admin(user_id: int | None, role: str | None) -> Actor:
    """A platform admin with their admin role (what they may do follows from it)."""
    return Actor(Audience.ADMIN, user_id, role=role)


def _is_party(aftersale: AfterSale, actor: Actor) -> bool:
    if actor.audience == Audience.BUYER:
        return actor.user_id is not None and aftersale.buyer_id == actor.user_id
    if actor.audience == Audience.MERCHANT:
        return aftersale.merchant_id == actor.merchant_id and actor.role in SHIPPING_ROLES
    return actor.audience == Audience.ADMIN and role_can(actor.role, RULE_PERMISSION)


def _overdue(aftersale: AfterSale) -> bool:
    return aftersale.due_at is not None and aftersale.due_at <= utcnow()


def _buyer_acts(aftersale: AfterSale, window_open: bool) -> list[str]:
    status, acts = aftersale.status, []
    if status in AFTERSALE_LIFECYCLE.transition("cancel").sources:
        acts.append(Act.CANCEL)
    if status == S.AWAITING_RETURN:
        acts.append(Act.SHIP_BACK)
    if status in (S.REJECTED, S.CLOSED) and aftersale.reapplied < MAX_REAPPLY and window_open \
            and aftersale.dispute is None:
        acts.append(Act.REAPPLY)
    if aftersale.dispute is None and (status == S.REJECTED or (status == S.RETURNED and _overdue(aftersale))):
        acts.append(Act.ESCALATE)
    if status == S.EXCHANGE_SHIPPED:
        acts.append(Act.CONFIRM_REPLACEMENT)
    return acts


def _merchant_acts(aftersale: AfterSale) -> list[str]:
    status, acts = aftersale.status, []
    if status == S.PENDING:
        if aftersale.kind in RETURN_KINDS:
            acts.append(Act.APPROVE)
        acts += [Act.REFUND, Act.REJECT]
    elif status == S.AWAITING_RETURN:
        acts.append(Act.REFUND)  # refund without waiting for the parcel
    elif status == S.RETURNED:
        if aftersale.return_received_at is None:
            acts.append(Act.RECEIVE)
        elif aftersale.kind == AfterSaleKind.EXCHANGE:
            acts.append(Act.SHIP_REPLACEMENT)
        acts.append(Act.REFUND)
    elif status == S.DISPUTED:
        acts.append(Act.STATE)
        acts.append(Act.REFUND)  # the shop gives in
    return acts


def actions_for(aftersale: AfterSale, actor: Actor, *, window_open: bool = True) -> tuple[str, ...]:
    """The acts `actor` may do to `aftersale` now. `window_open`: whether the item's
    after-sales window still lasts (services.window_open), for reapplying."""
    if not _is_party(aftersale, actor):
        return ()
    if actor.audience == Audience.BUYER:
        return tuple(str(a) for a in _buyer_acts(aftersale, window_open))
    if actor.audience == Audience.MERCHANT:
        return tuple(str(a) for a in _merchant_acts(aftersale))
    if aftersale.status == S.DISPUTED:
        return (str(Act.RULE), str(Act.MESSAGE))
    return ()


def require(aftersale: AfterSale, actor: Actor, act: str, *, window_open: bool = True) -> AfterSale:
    """Refuse unless `actor` may do `act` now: Forbidden for someone who never may,
    StaleState (code `aftersale_cannot_act`) for the right person at the wrong time."""
    if not _is_party(aftersale, actor):
        raise Forbidden(_("无权操作该售后申请"))
    if act not in actions_for(aftersale, actor, window_open=window_open):
        if act == Act.REAPPLY and aftersale.reapplied >= MAX_REAPPLY:
            message, code = _("已重新申请 %(n)d 次，不能再次申请", n=MAX_REAPPLY), AfterSaleError.REAPPLY_LIMIT
        elif act == Act.REAPPLY and not window_open:
            message, code = _("已超过售后期限，不能再次申请"), AfterSaleError.NOT_ALLOWED
        elif act == Act.SHIP_REPLACEMENT and aftersale.status == S.RETURNED:
            message, code = _("请先确认收到退回的商品"), AfterSaleError.NOT_RECEIVED_YET
        else:
            message, code = _("售后状态已变化，请刷新后重试"), AfterSaleError.CANNOT_ACT
        raise StaleState(message, code=code, act=act, found=aftersale.status, lifecycle="aftersale")
    return aftersale
