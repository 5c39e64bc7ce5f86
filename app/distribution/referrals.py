"""Referral bindings: who brought a buyer in, and the promoter chain an order keeps.

Guarantees:
- A buyer has at most one current binding (a partial unique index backs it).
- Nobody binds to themselves, nor to a distributor in their own downline (that
  would make the chain a cycle); codes of inactive distributors bind no one.
- The binding mode decides whether a new link replaces the current binding:
  `permanent` never, `days` once the binding has expired, `last_touch` always;
  "new users only" binds only users `counts_as_new` says are new, on every surface.
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app.core.clock import as_utc, utcnow
from app.core.errors import Conflict, NotFound
from app.distribution import distributors
from app.distribution import rules as distribution_rules
from app.distribution.errors import DistributionError
from app.distribution.models import Distributor, ReferralBinding
from app.distribution.states import MAX_LEVELS, BindingMode, BindingSource, DistributorStatus
from app.extensions import db
from app.orders.models import Order

NEW_USER_MINUTES = 10


def counts_as_new(user, *, registering: bool = False) -> bool:
    """Whether `user` is new for "bind new users only", the one rule for the shop and the
    API: they are registering right now, or their account was created within the last
    NEW_USER_MINUTES minutes and has neither placed an order nor been bound yet. (The
    mini-program binds right after the login that created the account; an account that
    has bought, or that someone brought in already, was not brought in by this code.)"""
    if registering:
        return True
    if as_utc(user.created_at) < utcnow() - timedelta(minutes=NEW_USER_MINUTES):
        return False
    if current_binding(user.id) is not None:
        return False
    return not db.session.scalar(sa.select(sa.literal(1)).where(Order.buyer_id == user.id).limit(1))


def current_binding(buyer_id: int) -> ReferralBinding | None:
    return db.session.scalar(sa.select(ReferralBinding).where(ReferralBinding.buyer_id == buyer_id,
                                                              ReferralBinding.ended_at.is_(None)))


def _ancestors(distributor: Distributor) -> list[int]:
    """Ids of `distributor` and everyone above it (parent links), cycle-safe."""
    seen: list[int] = []
    node = distributor
    while node is not None and node.id not in seen:
        seen.append(node.id)
        node = db.session.get(Distributor, node.parent_id) if node.parent_id else None
    return seen


def bind(user, code: str, source: str = BindingSource.LINK, is_new_user: bool = False) -> ReferralBinding | None:
    """Bind `user` to the distributor whose code this is, if the rules allow; the
    binding in force afterwards (None when distribution is off or the rules say no).
    `is_new_user`: the caller is registering `user` right now (see `counts_as_new`).

    Raises NotFound for an unknown code and Conflict for a self or downline binding."""
    rules = distribution_rules.current()
    distributor = distributors.by_code(code)
    if distributor is None:
        raise NotFound(_("推荐码不存在"), code=DistributionError.INVALID_CODE)
    if not rules.enabled:
        return None
    if distributor.status != DistributorStatus.ACTIVE:
        raise Conflict(_("该推荐人暂时不能邀请新用户"), code=DistributionError.DISTRIBUTOR_INACTIVE)
    if distributor.user_id == user.id:
        raise Conflict(_("不能绑定自己的推荐码"), code=DistributionError.CANNOT_BIND_SELF)
    own = distributors.for_user(user.id)
    if own is not None and own.id in _ancestors(distributor):
        raise Conflict(_("不能绑定自己团队成员的推荐码"), code=DistributionError.CANNOT_BIND_DOWNLINE)
    now = utcnow()
    existing = current_binding(user.id)
    if existing is not None:
        if existing.distributor_id == distributor.id and (existing.expires_at is None or existing.expires_at > now):
            return existing
        if rules.binding_mode == BindingMode.PERMANENT:
            return existing
        if rules.binding_mode == BindingMode.DAYS and (existing.expires_at is None or existing.expires_at > now):
            return existing
    if rules.bind_new_users_only and not counts_as_new(user, registering=is_new_user):
        # Only a new user binds; an existing user keeps what they have, even
        # where the mode would let a new link replace it.
        return existing
    if source not in {s.value for s in BindingSource}:
        source = BindingSource.LINK
    binding = ReferralBinding(buyer_id=user.id, distributor_id=distributor.id, source=source, bound_at=now,
                              expires_at=now + timedelta(days=rules.binding_days)
                              if rules.binding_mode == BindingMode.DAYS else None)
    try:
        with db.session.begin_nested():
            if existing is not None:
                existing.ended_at = now
                db.session.flush()
            db.session.add(binding)
    except IntegrityError:
        return current_binding(user.id)  # another request bound them a moment ago
    return binding


def snapshot_for(buyer_id: int) -> dict:
    """The chain an order keeps: {"rules_version", "chain": [level-1, level-2, level-3 id or None]}.

    Level 1 is the buyer's own distributor row when self-purchase commission is on
    and they are active, else the distributor they are bound to; each next level
    is the previous one's parent. Statuses are judged when the order is paid."""
    rules = distribution_rules.current()
    if not rules.enabled or rules.id is None:
        return {}
    first: Distributor | None = None
    own = distributors.for_user(buyer_id)
    if rules.self_purchase and own is not None and own.status == DistributorStatus.ACTIVE:
        first = own
    else:
        bound_id = distributors.bound_distributor_id(buyer_id)
        first = db.session.get(Distributor, bound_id) if bound_id else None
    if first is None:
        return {}
    chain: list[int | None] = []
    node: Distributor | None = first
    for _level in range(rules.levels):
        if node is None or node.id in chain:
            chain.append(None)
            node = None
            continue
        chain.append(node.id)
        node = db.session.get(Distributor, node.parent_id) if node.parent_id else None
    chain += [None] * (MAX_LEVELS - len(chain))
    return {"rules_version": rules.id, "chain": chain}
