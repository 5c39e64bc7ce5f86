"""The error codes finance raises (`DomainError.code`): clients and tests rely on these
strings, so a value never changes once published."""
from __future__ import annotations

from enum import StrEnum

from flask_babel import gettext as _

from app.core.errors import Conflict


class FinanceError(StrEnum):
    INSUFFICIENT_BALANCE = "insufficient_balance"  # a posting would take an account below zero (409)


class InsufficientBalance(Conflict):
    """A posting would take an account that may not go below zero below it; nothing of the
    posting is written (the caller's transaction rolls back). `.account_id` names it."""

    def __init__(self, account_id: int) -> None:
        super().__init__(_("余额不足"), code=FinanceError.INSUFFICIENT_BALANCE)
        self.account_id = account_id
