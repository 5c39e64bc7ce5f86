"""Error codes of analytics (values never change)."""
from enum import StrEnum


class AnalyticsError(StrEnum):
    INVALID_EVENTS = "invalid_events"  # a tracking batch refused whole (400)
    UNKNOWN_REPORT = "unknown_report"  # a report type that does not exist, or not for this scope (422)
    INVALID_RANGE = "invalid_range"  # a report's days: malformed, reversed, in the future or too long (422)
    UNKNOWN_FORMAT = "unknown_format"  # neither csv nor xlsx (422)
    REPORTS_BUSY = "reports_busy"  # too many reports of one scope queued or running (409)
    REPORT_TOO_LONG = "report_too_long"  # more rows than one file may hold (the job fails)
    SEGMENTS_CHANGED = "segments_changed"  # the segment was recomputed since the sender looked (409)
    SHOP_NOT_OPEN = "shop_not_open"  # a suspended or closed shop sends no marketing (409)
    MESSAGE_INVALID = "message_invalid"  # a marketing message's title, body or link refused (422)
