"""Events the shop records for analytics (DOMAIN.md, Notifications and analytics)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.extensions import db


class Event(db.Model):
    __tablename__ = "events"
    __table_args__ = (sa.Index("ix_events_type_created", "type", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(16))  # page_view | search | click | add_to_cart | order | pay ...
    anon_id: Mapped[str | None] = mapped_column(sa.String(40))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    path: Mapped[str | None] = mapped_column(sa.String(300))
    product_id: Mapped[int | None] = mapped_column()
    merchant_id: Mapped[int | None] = mapped_column()
    query: Mapped[str | None] = mapped_column(sa.String(100))
    dwell_ms: Mapped[int | None] = mapped_column()
    props: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
