"""What every tracking provider returns, and the one error it may raise.

A provider only reads a carrier's track; it never writes to the database.
Storing events on a shipment (and deduplicating them) is the service's job.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from app.core.errors import DomainError
from app.orders.errors import OrderError

# `TrackingResult.state`: our own lower_snake names, so the service and the
# templates never see a provider's numeric codes.
NO_INFO = "no_info"
COLLECTED = "collected"
IN_TRANSIT = "in_transit"
OUT_FOR_DELIVERY = "out_for_delivery"
DELIVERED = "delivered"
PROBLEM = "problem"
RETURNING = "returning"
RETURNED = "returned"
REJECTED = "rejected"
FORWARDED = "forwarded"
CUSTOMS = "customs"


class TrackingError(DomainError):
    """The tracking service could not be asked or refused us. Nothing the
    shopper or merchant did wrong; try again later."""

    status = 502
    code = OrderError.TRACKING_UNAVAILABLE


@dataclass(frozen=True)
class TrackingEventData:
    occurred_at: datetime  # timezone-aware UTC
    description: str
    location: str = ""
    status: str = ""  # the provider's label for this step ("在途", "签收"), for display only


@dataclass(frozen=True)
class TrackingResult:
    events: list[TrackingEventData] = field(default_factory=list)  # newest first
    delivered: bool = False
    state: str = NO_INFO

    @classmethod
    def empty(cls) -> TrackingResult:
        """No track yet: the carrier has not scanned the parcel, or tracking is manual."""
        return cls(events=[], delivered=False, state=NO_INFO)


class TrackingProvider(Protocol):
    name: str

    def query(self, carrier_code: str, tracking_no: str, phone: str | None = None) -> TrackingResult:
        """The carrier's whole track for this number. Raises `TrackingError`."""
        ...
