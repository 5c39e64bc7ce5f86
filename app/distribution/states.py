"""Distribution statuses, modes and their transitions (DOMAIN.md, Distribution)."""
from __future__ import annotations

from enum import StrEnum

from app.core.lifecycle import Lifecycle, act


class DistributorStatus(StrEnum):
    PENDING = "pending"  # applied, waiting for review
    ACTIVE = "active"
    REJECTED = "rejected"  # may apply again
    FROZEN = "frozen"  # earns nothing new, cannot withdraw


# A user applies (a row is made `pending`, or `active` straight away under `everyone`);
# the platform reviews; a rejected user may apply again; an admin grants directly, and
# reaching the spend threshold activates. Freezing stops new commission and withdrawals.
# A deleted account is frozen (active) or rejected (pending) through the same acts.
DISTRIBUTOR_LIFECYCLE = Lifecycle("distributor", DistributorStatus, (
    act("approve", DistributorStatus.PENDING, DistributorStatus.ACTIVE),
    act("reject", DistributorStatus.PENDING, DistributorStatus.REJECTED),
    act("reapply", DistributorStatus.REJECTED, DistributorStatus.PENDING),
    act("grant", (DistributorStatus.PENDING, DistributorStatus.REJECTED), DistributorStatus.ACTIVE),
    act("freeze", DistributorStatus.ACTIVE, DistributorStatus.FROZEN),
    act("unfreeze", DistributorStatus.FROZEN, DistributorStatus.ACTIVE),
))


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


# When a commission settles: made `pending` when the order is paid; once the order is
# received it may `settle` after the rules' delay (commissions.settle, the hourly sweep),
# unless a refund of its item is open; a refund of the whole item before that makes it
# `void` (a partial refund only raises `void_fen` and it stays pending). Settled and void
# are final; a refund after settlement raises a settled commission's `void_fen` (a
# clawback from the distributor's balance) without moving it.
COMMISSION_LIFECYCLE = Lifecycle("commission", CommissionStatus, (
    act("settle", CommissionStatus.PENDING, CommissionStatus.SETTLED),
    act("void", CommissionStatus.PENDING, CommissionStatus.VOID),
))


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
    COMMISSION_CLAWBACK = "commission_clawback"  # settled amount taken back (refund after settlement, -)
    WITHDRAWAL_REQUESTED = "withdrawal_requested"  # available reserved (-)
    WITHDRAWAL_RELEASED = "withdrawal_released"  # a rejected withdrawal gives it back (+)
    WITHDRAWAL_PAID = "withdrawal_paid"  # the transfer went out


MAX_LEVELS = 3
