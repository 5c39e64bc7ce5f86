"""Who may do what to a product now.

The merchant's side (any member of the product's shop): `edit` at any time (an edit of
a listed product's content goes back through review), `submit` a draft or rejected
product, `withdraw` it from review, `delist` (下架) and `relist` (上架 again). The
platform's side (admins with `products.review`): `approve`, `reject` and the
`violation_delist` of an on-sale product.

An action is offered when one of the lifecycle acts that carry it out
(`app.catalog.states.PRODUCT_LIFECYCLE`) starts from the product's status: `submit`
is the act `submit` or, when the platform does not require review, `publish`;
`relist` is `relist` or `relist_for_review`. Services refuse through `require`,
templates draw their buttons from `actions_for` (`{% if 'delist' in actions %}`).
"""
from __future__ import annotations

from enum import StrEnum

from flask_babel import gettext as _

from app.accounts import policies as account_policies
from app.catalog.errors import CatalogError
from app.catalog.states import PRODUCT_LIFECYCLE
from app.core.errors import Forbidden, StaleState
from app.merchants import policies as merchant_policies
from app.merchants import shops


class Side(StrEnum):
    MERCHANT = "merchant"
    PLATFORM = "platform"


EDIT = "edit"
# action -> the lifecycle acts that carry it out
MERCHANT_ACTIONS = {
    "submit": ("submit", "publish"),
    "withdraw": ("withdraw",),
    "delist": ("delist",),
    "relist": ("relist", "relist_for_review"),
}
PLATFORM_ACTIONS = {
    "approve": ("approve",),
    "reject": ("reject",),
    "violation_delist": ("violation_delist",),
}
PLATFORM_ACTS = frozenset(act for acts in PLATFORM_ACTIONS.values() for act in acts)
REVIEW_PERMISSION = "products.review"


def may_review(actor) -> bool:
    return account_policies.can(actor, REVIEW_PERMISSION)


def require_reviewer(actor) -> None:
    if not may_review(actor):
        raise Forbidden(_("你没有审核商品的权限"), code=CatalogError.FORBIDDEN)


def _sides(product, actor) -> tuple[Side, ...]:
    sides = []
    if actor is not None and merchant_policies.membership(actor.id, product.merchant_id) is not None:
        sides.append(Side.MERCHANT)
    if actor is not None and may_review(actor):
        sides.append(Side.PLATFORM)
    return tuple(sides)


def actions_from(status: str, side: Side) -> tuple[str, ...]:
    """The actions one side has on a product in `status` (e.g. the bulk action of a list tab)."""
    acts = set(PRODUCT_LIFECYCLE.acts_from(status))
    if side == Side.MERCHANT:
        return (EDIT, *(name for name, carried in MERCHANT_ACTIONS.items() if acts.intersection(carried)))
    return tuple(name for name, carried in PLATFORM_ACTIONS.items() if acts.intersection(carried))


def actions_for(product, actor, side: Side | None = None) -> tuple[str, ...]:
    """The actions `actor` may take on `product` now. `side` skips working out who the
    actor is when the surface already knows it (the merchant console, the admin)."""
    sides = (side,) if side else _sides(product, actor)
    return tuple(action for s in (Side.MERCHANT, Side.PLATFORM) if s in sides
                 for action in actions_from(product.status, s))


def require(product, actor, act_name: str) -> None:
    """Refuse the lifecycle act `act_name` on `product` by `actor`: a platform act needs the
    review permission (Forbidden), a merchant act a member of the shop (NotFound, the
    product's existence is not revealed), and the act must start from the product's
    status (StaleState naming the act and the status found)."""
    if act_name in PLATFORM_ACTS:
        require_reviewer(actor)
    else:
        shops.require_member(actor, product.merchant_id)
    if not PRODUCT_LIFECYCLE.allows(act_name, product.status):
        raise StaleState(_("状态已变化，请刷新后重试"), act=act_name, found=product.status, lifecycle="product")
