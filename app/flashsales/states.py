"""Flash-sale statuses and their transitions.

draft --submit--> pending_review --approve--> scheduled --end--> ended
a platform event (no merchant) goes draft --publish--> scheduled; the platform may
reject a merchant's request (pending_review --reject--> rejected, which the merchant
may edit and submit again); anything not over may be cancelled.

"Running" is not a status: a scheduled event runs while starts_at <= now < ends_at.
Entering `scheduled` carves the event stock out of the SKUs (once, the move is
guarded); leaving it (end, cancel) gives back what was not sold (once per item).
"""
from __future__ import annotations

from enum import StrEnum

from app.core.lifecycle import Lifecycle, act


class FlashSaleStatus(StrEnum):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    SCHEDULED = "scheduled"
    REJECTED = "rejected"
    ENDED = "ended"
    CANCELLED = "cancelled"


FLASH_SALE_LIFECYCLE = Lifecycle("flash_sale", FlashSaleStatus, (
    act("submit", (FlashSaleStatus.DRAFT, FlashSaleStatus.REJECTED), FlashSaleStatus.PENDING_REVIEW),
    act("approve", FlashSaleStatus.PENDING_REVIEW, FlashSaleStatus.SCHEDULED),
    act("publish", FlashSaleStatus.DRAFT, FlashSaleStatus.SCHEDULED),
    act("reject", FlashSaleStatus.PENDING_REVIEW, FlashSaleStatus.REJECTED),
    act("end", FlashSaleStatus.SCHEDULED, FlashSaleStatus.ENDED),
    act("cancel", (FlashSaleStatus.DRAFT, FlashSaleStatus.PENDING_REVIEW, FlashSaleStatus.REJECTED,
                   FlashSaleStatus.SCHEDULED), FlashSaleStatus.CANCELLED),
))

# Editable by its owner (the merchant, or the platform for its own events).
EDITABLE = (FlashSaleStatus.DRAFT, FlashSaleStatus.REJECTED)

# Bounds of what an event may hold.
MAX_ITEMS = 20
MAX_LIMIT = 99
MAX_DAYS = 7
TITLE_MAX = 40
