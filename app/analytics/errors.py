"""Error codes of analytics (values never change)."""
from enum import StrEnum


class AnalyticsError(StrEnum):
    INVALID_EVENTS = "invalid_events"  # a tracking batch refused whole (400)
