"""What the finance dashboard (/admin/finance) and the reconciliation pages read.

Figures over a range of Asia/Shanghai days come from the books alone (docs/finance.md,
Finance dashboard): money in = debits to clearing by `collection` and `duplicate_collection`;
refunds = what `refund_done` paid back; fees = credits to `platform_fees`; paid out = what
`withdrawal_paid` transfers took from clearing. What is owed now are balances: the shops'
pending + available − debts, the distributors' likewise, and what the gateways hold.

A fixed number of queries whatever the range or the number of runs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.core.pagination import Page, paginate
from app.extensions import db
from app.finance.models import LedgerAccount, LedgerEntry, LedgerTransaction
from app.finance.reconciliation import COLLECTION_KINDS, day_bounds
from app.finance.reconciliation_models import ReconciliationDifference, ReconciliationRun
from app.finance.states import AccountKind, TransactionKind


@dataclass
class Figures:
    money_in_fen: int = 0
    refunds_fen: int = 0
    fees_fen: int = 0
    paid_out_fen: int = 0
    owed_merchants_fen: int = 0
    owed_distributors_fen: int = 0
    held_by_gateways_fen: int = 0
    days: list[date] = field(default_factory=list)
    daily_in: list[int] = field(default_factory=list)
    daily_refunds: list[int] = field(default_factory=list)


def _local_day(column):
    """The Asia/Shanghai date of a UTC timestamp column, in SQL (Shanghai keeps no summer time)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.func.date(sa.func.timezone("Asia/Shanghai", column))
    return sa.func.date(column, "+8 hours")


def figures(first: date, last: date) -> Figures:
    start, _ = day_bounds(first)
    _, end = day_bounds(last)
    out = Figures(days=[first + timedelta(days=i) for i in range((last - first).days + 1)])
    in_range = sa.and_(LedgerTransaction.effective_at >= start, LedgerTransaction.effective_at < end)
    money_in = sa.and_(LedgerTransaction.kind.in_([str(k) for k in COLLECTION_KINDS]),
                       LedgerAccount.kind == AccountKind.CLEARING, LedgerEntry.amount_fen > 0)
    refund_done = sa.and_(LedgerTransaction.kind == TransactionKind.REFUND_DONE,
                          LedgerAccount.kind == AccountKind.REFUNDS, LedgerEntry.amount_fen > 0)
    day = _local_day(LedgerTransaction.effective_at).label("day")
    lines = (sa.select(LedgerEntry.amount_fen)
             .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
             .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id).where(in_range))
    by_day: dict[str, list[int]] = {d.isoformat(): [0, 0] for d in out.days}
    rows = db.session.execute(lines.with_only_columns(
        day, sa.func.sum(sa.case((money_in, LedgerEntry.amount_fen), else_=0)),
        sa.func.sum(sa.case((refund_done, LedgerEntry.amount_fen), else_=0)),
    ).where(sa.or_(money_in, refund_done)).group_by(day))
    for when, collected, refunded in rows:
        key = str(when)[:10]
        if key in by_day:
            by_day[key] = [int(collected or 0), int(refunded or 0)]
    out.daily_in = [by_day[d.isoformat()][0] for d in out.days]
    out.daily_refunds = [by_day[d.isoformat()][1] for d in out.days]
    out.money_in_fen, out.refunds_fen = sum(out.daily_in), sum(out.daily_refunds)
    fees = sa.and_(LedgerAccount.kind == AccountKind.PLATFORM_FEES, LedgerEntry.amount_fen < 0)
    transfers = sa.and_(LedgerTransaction.kind == TransactionKind.WITHDRAWAL_PAID,
                        LedgerAccount.kind == AccountKind.CLEARING, LedgerEntry.amount_fen < 0)
    fee_total, paid_total = db.session.execute(lines.with_only_columns(
        sa.func.sum(sa.case((fees, -LedgerEntry.amount_fen), else_=0)),
        sa.func.sum(sa.case((transfers, -LedgerEntry.amount_fen), else_=0)),
    ).where(sa.or_(fees, transfers))).one()
    out.fees_fen, out.paid_out_fen = int(fee_total or 0), int(paid_total or 0)
    balances = dict(db.session.execute(sa.select(LedgerAccount.kind, sa.func.sum(LedgerAccount.balance_fen))
                                       .group_by(LedgerAccount.kind)).all())

    def held(kind: AccountKind) -> int:
        return int(balances.get(str(kind)) or 0)

    # Credit-normal balances are negative sums (what the platform owes); debts are debit-normal.
    out.owed_merchants_fen = -(held(AccountKind.MERCHANT_PENDING) + held(AccountKind.MERCHANT_AVAILABLE)) \
        - held(AccountKind.MERCHANT_DEBTS)
    out.owed_distributors_fen = -(held(AccountKind.DISTRIBUTOR_PENDING) + held(AccountKind.DISTRIBUTOR_AVAILABLE)) \
        - held(AccountKind.DISTRIBUTOR_DEBTS)
    out.held_by_gateways_fen = held(AccountKind.CLEARING)
    return out


# --- reconciliation runs ------------------------------------------------------------------------


def open_counts(run_ids: list[int]) -> dict[int, int]:
    """run id -> how many of its differences nobody has handled yet."""
    if not run_ids:
        return {}
    return dict(db.session.execute(
        sa.select(ReconciliationDifference.run_id, sa.func.count()).where(
            ReconciliationDifference.run_id.in_(run_ids), ReconciliationDifference.handled_at.is_(None))
        .group_by(ReconciliationDifference.run_id)).all())


def runs(page=1, per_page=20) -> Page:
    """Every run, newest first, with who started it."""
    return paginate(sa.select(ReconciliationRun).options(selectinload(ReconciliationRun.actor))
                    .order_by(ReconciliationRun.id.desc()), page, per_page)


def latest_runs(limit: int = 5) -> list[ReconciliationRun]:
    return list(db.session.scalars(sa.select(ReconciliationRun).order_by(ReconciliationRun.id.desc()).limit(limit)))


def run_with_differences(run_id: int) -> ReconciliationRun | None:
    return db.session.scalar(sa.select(ReconciliationRun).where(ReconciliationRun.id == run_id).options(
        selectinload(ReconciliationRun.actor),
        selectinload(ReconciliationRun.differences).selectinload(ReconciliationDifference.handled_by)))
