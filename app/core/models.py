"""Platform-wide tables: the audit log and the settings store."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.extensions import db


class AuditLog(db.Model):
    """Who did what to which object, and what changed. Append-only."""

    __tablename__ = "audit_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    target_type: Mapped[str] = mapped_column(sa.String(40))
    target_id: Mapped[str] = mapped_column(sa.String(40))
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    __table_args__ = (sa.Index("ix_audit_logs_target", "target_type", "target_id"),)


class StateChange(db.Model):
    """The timeline row of a state change for entities without an event table of their
    own (payments, refunds, commissions, withdrawals, shops, outbound messages, an
    order's stock): written by `app.core.lifecycle.move` in the same transaction."""

    __tablename__ = "state_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(sa.String(32))  # the lifecycle's name, e.g. "payment"
    column: Mapped[str] = mapped_column(sa.String(32), default="status")
    entity_id: Mapped[int] = mapped_column(sa.Integer)
    from_state: Mapped[str | None] = mapped_column(sa.String(24))
    to_state: Mapped[str] = mapped_column(sa.String(24))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.Index("ix_state_changes_entity", "entity", "entity_id"),)


class PlatformSetting(db.Model):
    """One value of the settings store, JSON-encoded, keyed by name."""

    __tablename__ = "platform_settings"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
