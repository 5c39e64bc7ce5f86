"""Distribution statuses, modes and their transitions (DOMAIN.md, Distribution)."""
from __future__ import annotations

from enum import StrEnum

from app.core.lifecycle import Lifecycle, act


class DistributorStatus(StrEnum):
    PENDING = "pending"  # applied, waiting for review
    ACTIVE = "active"
    REJECTED = "rejected"  # may apply again
    FROZEN = "frozen"  # earns nothing new, cannot withdraw


# target -> the statuses a distributor may move from (guarded UPDATEs).
DISTRIBUTOR_TRANSITIONS: dict[DistributorStatus, tuple[DistributorStatus, ...]] = {
    DistributorStatus.PENDING: (DistributorStatus.REJECTED,),  # reapplying
    DistributorStatus.ACTIVE: (DistributorStatus.PENDING, DistributorStatus.REJECTED, DistributorStatus.FROZEN),
    DistributorStatus.REJECTED: (DistributorStatus.PENDING,),
    DistributorStatus.FROZEN: (DistributorStatus.ACTIVE,),
}


class Qualification(StrEnum):
    EVERYONE = "everyone"
    APPLICATION = "application"
    SPEND_THRESHOLD = "spend_threshold"


class BindingMode(StrEnum):
    PERMANENT = "permanent"  # first touch wins for good
    DAYS = "days"  # valid N days; after that a new link may rebind
    LAST_TOUCH = "last_touch"  # the latest link wins


class BindingSource(StrEnum):
    LINK = "link"
    QR = "qr"
    CODE = "code"


class CommissionStatus(StrEnum):
    PENDING = "pending"
    SETTLED = "settled"
    VOID = "void"


class WithdrawalStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    PAID = "paid"
    REJECTED = "rejected"


# Finance reviews a withdrawal: approve, then mark paid with the transfer reference;
# a rejection (before the money goes out) gives the amount back to the balance.
WITHDRAWAL_LIFECYCLE = Lifecycle("withdrawal", WithdrawalStatus, (
    act("approve", WithdrawalStatus.REQUESTED, WithdrawalStatus.APPROVED),
    act("mark_paid", WithdrawalStatus.APPROVED, WithdrawalStatus.PAID),
    act("reject", (WithdrawalStatus.REQUESTED, WithdrawalStatus.APPROVED), WithdrawalStatus.REJECTED),
))
IN_PROGRESS = (WithdrawalStatus.REQUESTED, WithdrawalStatus.APPROVED)


class WithdrawalMethod(StrEnum):
    WECHAT = "wechat"
    ALIPAY = "alipay"
    BANK = "bank"


class LedgerKind(StrEnum):
    """One line of a distributor's ledger; amounts are signed fen."""

    COMMISSION_PENDING = "commission_pending"  # a new commission (+ pending)
    COMMISSION_SETTLED = "commission_settled"  # pending -> available
    COMMISSION_VOID = "commission_void"  # pending amount taken back (refund)
    WITHDRAWAL_REQUESTED = "withdrawal_requested"  # available reserved (-)
    WITHDRAWAL_RELEASED = "withdrawal_released"  # a rejected withdrawal gives it back (+)
    WITHDRAWAL_PAID = "withdrawal_paid"  # the transfer went out


MAX_LEVELS = 3
