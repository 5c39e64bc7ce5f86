"""Error codes of analytics (values never change)."""
from enum import StrEnum


class AnalyticsError(StrEnum):
    INVALID_EVENTS = "invalid_events"  # a tracking batch refused whole (400)
    SEGMENTS_CHANGED = "segments_changed"  # the segment was recomputed since the sender looked (409)
    SHOP_NOT_OPEN = "shop_not_open"  # a suspended or closed shop sends no marketing (409)
    MESSAGE_INVALID = "message_invalid"  # a marketing message's title, body or link refused (422)
