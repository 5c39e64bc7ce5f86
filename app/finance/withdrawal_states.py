"""A shop's withdrawal of its available money: statuses, methods and the transitions
finance makes (docs/finance.md, "Shops' money (资金) and withdrawals")."""
from __future__ import annotations

from enum import StrEnum

from app.core.lifecycle import Lifecycle, act


class MerchantWithdrawalStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    PAID = "paid"
    REJECTED = "rejected"


# The shop's owner asks (the amount is held in `payouts`); finance approves, then marks
# it paid with the transfer reference and the account it paid from; a rejection (before
# the money goes out) gives the amount back to the shop's available balance.
MERCHANT_WITHDRAWAL_LIFECYCLE = Lifecycle("merchant_withdrawal", MerchantWithdrawalStatus, (
    act("approve", MerchantWithdrawalStatus.REQUESTED, MerchantWithdrawalStatus.APPROVED),
    act("mark_paid", MerchantWithdrawalStatus.APPROVED, MerchantWithdrawalStatus.PAID),
    act("reject", (MerchantWithdrawalStatus.REQUESTED, MerchantWithdrawalStatus.APPROVED),
        MerchantWithdrawalStatus.REJECTED),
))
IN_PROGRESS = (MerchantWithdrawalStatus.REQUESTED, MerchantWithdrawalStatus.APPROVED)


class MerchantWithdrawalMethod(StrEnum):
    BANK = "bank"  # to the shop's (company) bank account
    ALIPAY = "alipay"
