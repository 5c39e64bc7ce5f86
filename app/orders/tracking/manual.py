"""Manual tracking: the merchant types the events in, so there is nothing to
ask. The development default and the fallback when no Kuaidi100 account."""
from __future__ import annotations

from app.orders.tracking.base import TrackingResult


class ManualTracking:
    name = "manual"

    def query(self, carrier_code: str, tracking_no: str, phone: str | None = None) -> TrackingResult:
        """Always empty: the events a merchant entered are already stored."""
        return TrackingResult.empty()
