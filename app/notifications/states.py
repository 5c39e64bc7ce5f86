"""Outbound message statuses and their lifecycle (DOMAIN.md, Notifications)."""
from __future__ import annotations

from enum import StrEnum

from app.core.lifecycle import Lifecycle, act


class OutboundStatus(StrEnum):
    QUEUED = "queued"  # waiting for its delivery job, or between RQ retries
    SENT = "sent"  # the provider accepted it
    FAILED = "failed"  # RQ gave up, or a verification code expired before it could go out


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"


# A message is queued when made; its delivery job sends it or, once RQ has no retries
# left, fails it; the sweep fails a verification code that expired while it waited;
# an admin may queue a failed message again. Only a queued message is ever sent, so a
# job that finds its row failed (an expired code, a job RQ gave up on) sends nothing.
OUTBOUND_LIFECYCLE = Lifecycle("outbound_message", OutboundStatus, (
    act("send", OutboundStatus.QUEUED, OutboundStatus.SENT),
    act("fail", OutboundStatus.QUEUED, OutboundStatus.FAILED),
    act("expire", OutboundStatus.QUEUED, OutboundStatus.FAILED),
    act("retry", OutboundStatus.FAILED, OutboundStatus.QUEUED),
))
