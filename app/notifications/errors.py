"""Error codes of the notifications domain (clients and tests rely on the strings).
A missing message and a message that may not be retried use the plain `not_found`
and `conflict` codes of `NotFound` and `Conflict`."""
from __future__ import annotations

from enum import StrEnum


class NotificationError(StrEnum):
    DELIVERY_FAILED = "delivery_failed"  # the provider refused or was unreachable; RQ retries
