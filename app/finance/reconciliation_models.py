"""Reconciliation runs (对账) and the differences each found (docs/finance.md, Reconciliation).

A run checks one Asia/Shanghai day; running the day again makes a new run, so the history of
what was found when stays. A difference is never edited but to record that finance handled
it (who, when, a note; audited)."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.extensions import db


class ReconciliationRun(db.Model):
    __tablename__ = "reconciliation_runs"
    __table_args__ = (sa.Index("ix_reconciliation_runs_day", "day", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date)
    trigger: Mapped[str] = mapped_column(sa.String(10))  # RunTrigger
    # Set on the nightly job's run only: unique, so two ticks of the job reconcile a day once.
    job_day: Mapped[date | None] = mapped_column(sa.Date, unique=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # [{"provider", "filename", "payments", "refunds"}] for each bill compared
    bills: Mapped[list] = mapped_column(sa.JSON, default=list)
    # how many of each thing were looked at: {"payments": 12, "refunds": 3, ...}
    checked: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    difference_count: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    actor = relationship("User")
    differences: Mapped[list[ReconciliationDifference]] = relationship(
        back_populates="run", order_by="ReconciliationDifference.id")


class ReconciliationDifference(db.Model):
    __tablename__ = "reconciliation_differences"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("reconciliation_runs.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40))  # DifferenceKind
    provider: Mapped[str | None] = mapped_column(sa.String(16))  # the bill's gateway, for bill differences
    reference: Mapped[str] = mapped_column(sa.String(120))  # trade no, refund no, order no, account code, key
    expected_fen: Mapped[int | None] = mapped_column(sa.BigInteger)
    actual_fen: Mapped[int | None] = mapped_column(sa.BigInteger)
    detail: Mapped[str] = mapped_column(sa.String(300), default="")
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    handled_note: Mapped[str | None] = mapped_column(sa.String(500))

    run: Mapped[ReconciliationRun] = relationship(back_populates="differences")
    handled_by = relationship("User")
