"""The error codes finance raises (`DomainError.code`): clients and tests rely on these
strings, so a value never changes once published."""
from __future__ import annotations

from enum import StrEnum

from flask_babel import gettext as _

from app.core.errors import Conflict


class FinanceError(StrEnum):
    INSUFFICIENT_BALANCE = "insufficient_balance"  # a posting would take an account below zero (409)
    # shops' withdrawals (app/finance/merchant_withdrawals.py)
    CANNOT_WITHDRAW = "cannot_withdraw"  # the shop is suspended or closed (409)
    NOT_ALLOWED_TO_WITHDRAW = "not_allowed_to_withdraw"  # a member who is not the owner (403)
    INVALID_AMOUNT = "invalid_amount"
    BELOW_MINIMUM = "below_minimum"
    INVALID_METHOD = "invalid_method"
    INVALID_ACCOUNT = "invalid_account"
    WITHDRAWAL_NOT_FOUND = "withdrawal_not_found"
    STALE_WITHDRAWAL = "stale_withdrawal"  # finance acted on it meanwhile (409)
    TRANSFER_REF_REQUIRED = "transfer_ref_required"
    REASON_REQUIRED = "reason_required"
    INVALID_PAYING_ACCOUNT = "invalid_paying_account"  # not one of `payouts.paying_accounts()`
    PAYING_ACCOUNT_SHORT = "paying_account_short"  # the chosen clearing account does not hold the transfer (409)


class InsufficientBalance(Conflict):
    """A posting would take an account that may not go below zero below it; nothing of the
    posting is written (the caller's transaction rolls back). `.account_id` names it."""

    def __init__(self, account_id: int) -> None:
        super().__init__(_("余额不足"), code=FinanceError.INSUFFICIENT_BALANCE)
        self.account_id = account_id
