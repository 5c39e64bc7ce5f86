"""Shipping many orders at once, manual tracking events, and tracking refresh.

Guarantees:
- A bulk-ship sheet is applied row by row, each in its own savepoint: one bad
  row (unknown order, not awaiting shipment, someone else's order) is reported
  and the others still ship; a merchant can only ever ship their own orders.
- A tracking refresh stores each event once (a unique key), however often the
  same track is read, and marks the shipment delivered when the carrier says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app.core.clock import utcnow
from app.core.db import add_unique
from app.core.errors import Conflict, DomainError, NotFound, ValidationError
from app.extensions import db
from app.orders import services, shipping_csv
from app.orders.errors import OrderError
from app.orders.models import Order, Shipment, TrackingEvent
from app.orders.states import OrderStatus
from app.orders.tracking import TrackingError, get_provider

# Kuaidi100 locks a number queried more often than every 30 minutes.
REFRESH_INTERVAL = timedelta(minutes=30)
DESCRIPTION_MAX = 300


@dataclass
class SheetReport:
    shipped: list[str] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message)


def ship_from_sheet(actor_id: int, merchant_id: int, data: bytes) -> SheetReport:
    """Ship every valid row of an uploaded CSV (order number, carrier, tracking number)."""
    sheet = shipping_csv.parse(data)
    report = SheetReport(errors=[(e.line, e.message) for e in sheet.errors])
    for row in sheet.rows:
        try:
            with db.session.begin_nested():
                services.ship(actor_id, merchant_id, row.order_no, row.carrier_code, row.tracking_no)
            report.shipped.append(row.order_no)
        except DomainError as exc:
            report.errors.append((row.line, f"{row.order_no}: {exc.message}"))
    report.errors.sort()
    return report


def add_manual_event(merchant_id: int, order_no: str, description: str, location: str = "",
                     occurred_at: datetime | None = None) -> TrackingEvent:
    """A tracking step typed in by the merchant (for carriers without an API, or local delivery)."""
    order = services.for_merchant(merchant_id, order_no)
    if order.shipment is None or order.status not in (OrderStatus.SHIPPED, OrderStatus.RECEIVED):
        raise Conflict(_("订单尚未发货"), code=OrderError.NOT_SHIPPED)
    description = (description or "").strip()
    if not description:
        raise ValidationError(_("请填写物流动态"), code=OrderError.DESCRIPTION_REQUIRED,
                              fields={"description": _("请填写物流动态")})
    event = TrackingEvent(shipment_id=order.shipment.id, occurred_at=occurred_at or utcnow(),
                          description=description[:DESCRIPTION_MAX], location=(location or "").strip()[:100],
                          source="manual")
    return add_unique(event, Conflict(_("这条物流动态已经添加过"), code=OrderError.DUPLICATE_EVENT))


def refresh(shipment_id: int, force: bool = False) -> int:
    """Read the carrier's track for one shipment and store new events; how many were new."""
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None:
        raise NotFound(_("运单不存在"), code=OrderError.SHIPMENT_NOT_FOUND)
    now = utcnow()
    if not force and shipment.last_polled_at and now - shipment.last_polled_at < REFRESH_INTERVAL:
        return 0
    shipment.last_polled_at = now
    order = db.session.get(Order, shipment.order_id)
    try:
        result = get_provider().query(shipment.carrier_code, shipment.tracking_no,
                                      phone=(order.address or {}).get("phone"))
    except TrackingError as exc:
        shipment.poll_error = exc.message[:200]
        db.session.flush()
        return 0
    shipment.poll_error = None
    known = {(e.occurred_at, e.description) for e in db.session.scalars(
        sa.select(TrackingEvent).where(TrackingEvent.shipment_id == shipment.id))}
    added = 0
    for step in result.events:
        key = (step.occurred_at, step.description[:DESCRIPTION_MAX])
        if key in known:
            continue
        known.add(key)
        db.session.add(TrackingEvent(shipment_id=shipment.id, occurred_at=step.occurred_at,
                                     description=step.description[:DESCRIPTION_MAX],
                                     location=(step.location or "")[:100], source=get_provider().name))
        added += 1
    if result.delivered:
        shipment.delivered = True
    db.session.flush()
    return added


def refresh_due_ids(limit: int = 200) -> list[int]:
    """Shipments still on their way whose track was not read in the last interval."""
    cutoff = utcnow() - REFRESH_INTERVAL
    return list(db.session.scalars(
        sa.select(Shipment.id).join(Order, Order.id == Shipment.order_id)
        .where(Order.status == OrderStatus.SHIPPED, Shipment.delivered.is_(False),
               sa.or_(Shipment.last_polled_at.is_(None), Shipment.last_polled_at <= cutoff))
        .order_by(Shipment.last_polled_at.nulls_first(), Shipment.id).limit(limit)))


def events_for(order: Order) -> list[TrackingEvent]:
    if order.shipment is None:
        return []
    return list(db.session.scalars(sa.select(TrackingEvent).where(TrackingEvent.shipment_id == order.shipment.id)
                                   .order_by(TrackingEvent.occurred_at.desc(), TrackingEvent.id.desc())))
