"""Segment runs, their segments and members, and the marketing deliveries the frequency
cap counts (docs/analytics.md, Customer segments)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.extensions import db

PLATFORM_SCOPE = 0  # scope_id of the platform's run; a shop's run has its merchant id


def scope_id_of(merchant_id: int | None) -> int:
    return PLATFORM_SCOPE if merchant_id is None else merchant_id


class RunState(StrEnum):
    CLUSTERED = "clustered"
    TOO_FEW = "too_few"  # fewer customers than clustering.MIN_CUSTOMERS
    TOO_ALIKE = "too_alike"  # every customer has the same figures: nothing to tell apart


class SegmentRun(db.Model):
    """The current segmentation of one scope. There is at most one per scope (`scope_id`
    unique): a new computation deletes the old run and writes its own in one transaction."""

    __tablename__ = "segment_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int] = mapped_column(unique=True)
    merchant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("merchants.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(sa.String(16))
    k: Mapped[int | None] = mapped_column()
    silhouette: Mapped[float | None] = mapped_column(sa.Float)
    customers: Mapped[int] = mapped_column(default=0)
    lookback_days: Mapped[int] = mapped_column()
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    segments: Mapped[list[Segment]] = relationship(back_populates="run", order_by="Segment.position",
                                                   passive_deletes=True)

    @property
    def clustered(self) -> bool:
        return self.state == RunState.CLUSTERED


class Segment(db.Model):
    """One cluster of a run: its name (unique within the run), size and profile, the
    centroid in the figures' own units (see `naming.profile_of`)."""

    __tablename__ = "segments"
    __table_args__ = (sa.UniqueConstraint("run_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("segment_runs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()  # 0 = the largest
    kind: Mapped[str] = mapped_column(sa.String(20))  # naming.Kind
    variant: Mapped[int] = mapped_column(default=0)  # 1, 2 ... when several segments got the same kind
    name: Mapped[str] = mapped_column(sa.String(40))  # the Chinese name as computed, e.g. 普通客户（消费较高）
    size: Mapped[int] = mapped_column()
    profile: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    run: Mapped[SegmentRun] = relationship(back_populates="segments")


class SegmentMember(db.Model):
    """A customer in a segment, with the figures the member list shows."""

    __tablename__ = "segment_members"

    segment_id: Mapped[int] = mapped_column(sa.ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    orders: Mapped[int] = mapped_column(default=0)
    monetary_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    last_order_days: Mapped[int | None] = mapped_column()  # None: no paid order in the window
    views: Mapped[int] = mapped_column(default=0)


class DeliveryChannel(StrEnum):
    SITE = "site"  # in-site message only
    SITE_SMS = "site_sms"  # in-site message and an SMS


class MarketingDelivery(db.Model):
    """One marketing message that reached one user, from one send (a tracked job). The
    frequency cap counts these rows per user over the cap's window, whoever sent them."""

    __tablename__ = "marketing_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("job_id", "user_id"),
        sa.Index("ix_marketing_deliveries_user_sent", "user_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(sa.ForeignKey("tracked_jobs.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    merchant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("merchants.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(sa.String(12))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
