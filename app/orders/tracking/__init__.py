"""Logistics tracking providers: `manual` (merchant enters events, the default)
and `kuaidi100` (Kuaidi100's real-time query API). `TRACKING_PROVIDER` picks one.
"""
from __future__ import annotations

from flask import current_app

from app.orders.tracking.base import TrackingError, TrackingEventData, TrackingProvider, TrackingResult
from app.orders.tracking.kuaidi100 import Kuaidi100Tracking
from app.orders.tracking.manual import ManualTracking


def get_provider() -> TrackingProvider:
    """The configured adapter; an unknown `TRACKING_PROVIDER` is a deployment
    mistake, so it fails loudly rather than silently tracking nothing."""
    name = current_app.config.get("TRACKING_PROVIDER") or "manual"
    if name == "manual":
        return ManualTracking()
    if name == "kuaidi100":
        return Kuaidi100Tracking.from_config(current_app.config)
    raise RuntimeError(f"unknown TRACKING_PROVIDER {name!r}")


__all__ = ["TrackingError", "TrackingEventData", "TrackingProvider", "TrackingResult", "get_provider"]
