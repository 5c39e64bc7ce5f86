"""The chart of accounts and the kinds of money events (docs/finance.md has the postings)."""
from __future__ import annotations

from enum import StrEnum


class AccountKind(StrEnum):
    CLEARING = "clearing"  # per gateway (`provider`): money it holds for the platform (debit)
    PLATFORM_FEES = "platform_fees"  # fees the platform earned (credit)
    MERCHANT_PENDING = "merchant_pending"  # per shop: owed, its orders' after-sales window still open
    MERCHANT_AVAILABLE = "merchant_available"  # per shop: owed, may be withdrawn
    DISTRIBUTOR_PENDING = "distributor_pending"  # per distributor: commission not yet settled
    DISTRIBUTOR_AVAILABLE = "distributor_available"  # per distributor: may be withdrawn
    PAYOUTS = "payouts"  # withdrawals asked for and not yet transferred (credit: money on its way out)
    REFUNDS = "refunds"  # refunds started and not yet confirmed by the gateway (credit)
    # What a shop or a distributor owes the platform (debit): a refund or a clawback beyond
    # what they held. Their next money pays it first.
    MERCHANT_DEBTS = "merchant_debts"
    DISTRIBUTOR_DEBTS = "distributor_debts"


# Debit-normal accounts show their sum as it is; the others (what the platform owes or
# earned) show it turned.
NORMAL_DEBIT = frozenset({AccountKind.CLEARING, AccountKind.MERCHANT_DEBTS, AccountKind.DISTRIBUTOR_DEBTS})
# Kinds that name an owner (a shop or a distributor) or a gateway.
OWNED = frozenset({AccountKind.MERCHANT_PENDING, AccountKind.MERCHANT_AVAILABLE, AccountKind.DISTRIBUTOR_PENDING,
                   AccountKind.DISTRIBUTOR_AVAILABLE, AccountKind.MERCHANT_DEBTS, AccountKind.DISTRIBUTOR_DEBTS})
BY_PROVIDER = frozenset({AccountKind.CLEARING})
# What may be shown below zero: a debt is what someone owes, whatever its sign.
MAY_GO_NEGATIVE = frozenset({AccountKind.MERCHANT_DEBTS, AccountKind.DISTRIBUTOR_DEBTS})


class TransactionKind(StrEnum):
    """What a transaction records; docs/finance.md gives each one's lines and key."""
    COLLECTION = "collection"  # money a gateway took: an order paid, or money owed straight back
    DUPLICATE_COLLECTION = "duplicate_collection"  # a trade paid twice: the second goes back whole
    COMMISSION_MADE = "commission_made"
    COMMISSION_VOIDED = "commission_voided"  # a refund before settlement
    COMMISSION_SETTLED = "commission_settled"
    COMMISSION_CLAWBACK = "commission_clawback"  # a refund after settlement
    REFUND_STARTED = "refund_started"  # a shop's money set aside for the buyer
    REFUND_DONE = "refund_done"  # the gateway (or an operator) paid the buyer back
    MERCHANT_SETTLEMENT = "merchant_settlement"
    WITHDRAWAL_REQUESTED = "withdrawal_requested"
    WITHDRAWAL_RELEASED = "withdrawal_released"
    WITHDRAWAL_PAID = "withdrawal_paid"
    ADJUSTMENT = "adjustment"
