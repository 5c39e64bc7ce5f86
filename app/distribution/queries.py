"""What every distribution surface reads: the admin console, the distributor centre
and the mini-program API ask these, so a team, a commission list or a balance is
counted one way everywhere. Each function is a fixed number of queries whatever
the number of distributors asked about.

- `team_counts`: level-1 and level-2 members (distributor rows by parent) and the
  customers bound now (bindings in force).
- `commission_rows`: commissions with their order number, item and earner.
- `earnings`: pending, settled, withdrawn and in-progress sums; available is
  settled - withdrawn - in progress, always a sum over the records.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.accounts.models import User
from app.core.clock import utcnow
from app.distribution.models import Commission, Distributor, ReferralBinding, Withdrawal
from app.distribution.states import IN_PROGRESS, CommissionStatus, WithdrawalStatus
from app.extensions import db
from app.orders.models import Order, OrderItem

# --- team ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TeamCounts:
    level1: int = 0  # distributors whose parent is this one
    level2: int = 0  # distributors whose parent's parent is this one
    customers: int = 0  # buyers bound to this one now


def team_counts(distributor_ids: list[int]) -> dict[int, TeamCounts]:
    """distributor id -> its TeamCounts, for all of `distributor_ids` in one query."""
    if not distributor_ids:
        return {}
    child, grandchild = aliased(Distributor), aliased(Distributor)
    level1 = (sa.select(sa.func.count(child.id)).where(child.parent_id == Distributor.id)
              .correlate(Distributor).scalar_subquery())
    level2 = (sa.select(sa.func.count(grandchild.id)).select_from(child)
              .join(grandchild, grandchild.parent_id == child.id).where(child.parent_id == Distributor.id)
              .correlate(Distributor).scalar_subquery())
    customers = (sa.select(sa.func.count(ReferralBinding.id))
                 .where(ReferralBinding.distributor_id == Distributor.id, ReferralBinding.in_force(utcnow()))
                 .correlate(Distributor).scalar_subquery())
    rows = db.session.execute(sa.select(Distributor.id, level1, level2, customers)
                              .where(Distributor.id.in_(distributor_ids))).all()
    counts = {row[0]: TeamCounts(int(row[1]), int(row[2]), int(row[3])) for row in rows}
    return {i: counts.get(i, TeamCounts()) for i in distributor_ids}


def team_count(distributor_id: int) -> TeamCounts:
    return team_counts([distributor_id])[distributor_id]


def team_members(distributor_id: int, level: int) -> sa.Select:
    """(Distributor, User, team_size) of the distributor's level-1 or level-2 members,
    newest first; team_size is how many joined under each member."""
    child = aliased(Distributor)
    their_team = (sa.select(sa.func.count(child.id)).where(child.parent_id == Distributor.id)
                  .correlate(Distributor).scalar_subquery())
    if level == 1:
        under = Distributor.parent_id == distributor_id
    else:
        under = Distributor.parent_id.in_(sa.select(child.id).where(child.parent_id == distributor_id)
                                          .scalar_subquery())
    return (sa.select(Distributor, User, their_team.label("team_size"))
            .join(User, User.id == Distributor.user_id).where(under)
            .order_by(Distributor.activated_at.desc().nulls_last(), Distributor.id.desc()))


# --- commissions ----------------------------------------------------------------------------------

def commission_rows(*, distributor_id: int | None = None, status: str | None = None, level: int | None = None,
                    code: str | None = None, order_no: str | None = None, created_from: datetime | None = None,
                    created_before: datetime | None = None) -> sa.Select:
    """Commissions, newest first, each as (Commission, order_no, item_title, spec_text,
    earner's code, earner's real name, earner's nickname), narrowed by what is given."""
    stmt = (sa.select(Commission, Order.order_no, OrderItem.title.label("item_title"), OrderItem.spec_text,
                      Distributor.code, Distributor.real_name, User.nickname)
            .join(Order, Order.id == Commission.order_id)
            .join(OrderItem, OrderItem.id == Commission.order_item_id)
            .join(Distributor, Distributor.id == Commission.distributor_id)
            .join(User, User.id == Distributor.user_id))
    if distributor_id is not None:
        stmt = stmt.where(Commission.distributor_id == distributor_id)
    if status:
        stmt = stmt.where(Commission.status == status)
    if level:
        stmt = stmt.where(Commission.level == level)
    if code:
        stmt = stmt.where(Distributor.code == code)
    if order_no:
        stmt = stmt.where(Order.order_no == order_no)
    if created_from is not None:
        stmt = stmt.where(Commission.created_at >= created_from)
    if created_before is not None:
        stmt = stmt.where(Commission.created_at < created_before)
    return stmt.order_by(Commission.id.desc())


def commissions_by_order(distributor_id: int) -> sa.Select:
    """The orders that brought the distributor commission, newest first: order_no,
    created_at, status, amount_fen, commission_fen (payable), level (the nearest), lines."""
    return (sa.select(Order.order_no, Order.created_at, Order.status, Order.amount_fen,
                      sa.func.sum(Commission.payable_fen).label("commission_fen"),
                      sa.func.min(Commission.level).label("level"), sa.func.count(Commission.id).label("lines"))
            .join(Commission, Commission.order_id == Order.id)
            .where(Commission.distributor_id == distributor_id)
            .group_by(Order.id, Order.order_no, Order.created_at, Order.status, Order.amount_fen)
            .order_by(Order.id.desc()))


# --- earnings -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Earnings:
    pending_fen: int = 0  # payable commission not yet settled
    settled_fen: int = 0
    withdrawn_fen: int = 0  # withdrawals paid
    in_progress_fen: int = 0  # withdrawals requested or approved

    @property
    def balance_fen(self) -> int:
        """Settled less withdrawn: below zero when refunds took back commission that was
        already withdrawn (a debt the next settled commissions pay first)."""
        return self.settled_fen - self.withdrawn_fen - self.in_progress_fen

    @property
    def available_fen(self) -> int:
        return max(0, self.balance_fen)

    @property
    def debt_fen(self) -> int:
        return max(0, -self.balance_fen)

    @property
    def total_fen(self) -> int:
        return self.pending_fen + self.settled_fen


def earnings_of(distributor_ids: list[int]) -> dict[int, Earnings]:
    """distributor id -> Earnings, for all of `distributor_ids` in two queries."""
    if not distributor_ids:
        return {}
    commission_sums = {row[0]: row[1:] for row in db.session.execute(sa.select(
        Commission.distributor_id,
        sa.func.coalesce(sa.func.sum(Commission.payable_fen).filter(Commission.status == CommissionStatus.PENDING), 0),
        sa.func.coalesce(sa.func.sum(Commission.payable_fen).filter(Commission.status == CommissionStatus.SETTLED), 0),
    ).where(Commission.distributor_id.in_(distributor_ids)).group_by(Commission.distributor_id))}
    withdrawal_sums = {row[0]: row[1:] for row in db.session.execute(sa.select(
        Withdrawal.distributor_id,
        sa.func.coalesce(sa.func.sum(Withdrawal.amount_fen).filter(Withdrawal.status == WithdrawalStatus.PAID), 0),
        sa.func.coalesce(sa.func.sum(Withdrawal.amount_fen).filter(Withdrawal.status.in_(IN_PROGRESS)), 0),
    ).where(Withdrawal.distributor_id.in_(distributor_ids)).group_by(Withdrawal.distributor_id))}
    result = {}
    for distributor_id in distributor_ids:
        pending, settled = commission_sums.get(distributor_id, (0, 0))
        withdrawn, in_progress = withdrawal_sums.get(distributor_id, (0, 0))
        result[distributor_id] = Earnings(int(pending), int(settled), int(withdrawn), int(in_progress))
    return result


def earnings(distributor_id: int) -> Earnings:
    return earnings_of([distributor_id])[distributor_id]
