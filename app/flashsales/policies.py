"""Who may do what with flash sales.

- The platform (an admin whose role grants `flashsales.manage`: operators and super
  admins) makes platform events (no merchant) and publishes them, approves or rejects
  merchants' requests, and may cancel any event that is not over.
- A shop's owner makes events of the shop's own SKUs, edits them while
  draft or rejected, submits them for review and cancels them while not over.
- Nobody else. Loading is scoped (`queries.for_merchant`): another shop's event is
  NotFound, never Forbidden, so ids cannot be probed.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from app.accounts.policies import role_can
from app.core.errors import Forbidden
from app.flashsales.errors import FlashSaleError
from app.flashsales.models import FlashSale
from app.flashsales.states import EDITABLE, FLASH_SALE_LIFECYCLE

PERMISSION = "flashsales.manage"


@dataclass(frozen=True)
class Actor:
    user_id: int
    merchant_id: int | None = None  # acting for this shop (None: the platform)
    admin_role: str | None = None


def platform(user) -> Actor:
    return Actor(user_id=user.id, admin_role=user.admin_role)


def shop(user_id: int, merchant_id: int) -> Actor:
    return Actor(user_id=user_id, merchant_id=merchant_id)


def is_platform(actor: Actor) -> bool:
    return actor.merchant_id is None and role_can(actor.admin_role, PERMISSION)


def _owns(sale: FlashSale, actor: Actor) -> bool:
    if actor.merchant_id is not None:
        return sale.merchant_id == actor.merchant_id
    return sale.merchant_id is None and is_platform(actor)


def actions_for(sale: FlashSale, actor: Actor) -> tuple[str, ...]:
    """The acts (and "edit") `actor` may do to `sale` now."""
    table = FLASH_SALE_LIFECYCLE.acts_from(sale.status)
    acts: list[str] = []
    if _owns(sale, actor):
        if sale.status in EDITABLE:
            acts.append("edit")
        if "submit" in table and sale.merchant_id is not None:
            acts.append("submit")
        if "publish" in table and sale.merchant_id is None:
            acts.append("publish")
    if is_platform(actor) and sale.merchant_id is not None:
        acts += [a for a in ("approve", "reject") if a in table]
    if "cancel" in table and (_owns(sale, actor) or is_platform(actor)):
        acts.append("cancel")
    return tuple(acts)


def require(sale: FlashSale, actor: Actor, act_name: str) -> FlashSale:
    if act_name not in actions_for(sale, actor):
        raise Forbidden(_("无权进行此操作，或活动状态已变化"), code=FlashSaleError.FORBIDDEN)
    return sale
