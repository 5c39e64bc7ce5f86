"""Money leaving the platform to a shop or a distributor (a withdrawal), in the books.

The three steps of any withdrawal, whoever asks (distributors' in
`app/distribution/withdrawals.py`, shops' in `app/finance/merchant_withdrawals.py`):

- `hold(...)` when it is asked for: the amount leaves the owner's available account for
  `payouts` (money on its way out). `InsufficientBalance` (409) when the account does not
  hold it: the conditional UPDATE in `ledger.post` is what makes two requests racing for
  one balance take it once.
- `release(...)` when it is rejected: the amount goes back to the available account.
- `pay(...)` when finance has transferred it: `payouts` gives the amount up, the transfer
  (amount − fee) leaves the paying gateway's clearing account and the fee is the
  platform's. `InsufficientBalance` when that clearing account does not hold the transfer.

Each is keyed by the withdrawal (`<prefix>:<id>:requested|released|paid`), so a repeat
posts nothing. Flushes only, in the caller's transaction with the withdrawal's own move.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from app.core.errors import ValidationError
from app.extensions import db
from app.finance import ledger
from app.finance.errors import FinanceError
from app.finance.models import LedgerAccount, LedgerTransaction
from app.finance.states import AccountKind, TransactionKind


def hold(prefix: str, withdrawal_id: int, available: AccountKind, owner_id: int, amount_fen: int,
         memo: str | None = None) -> LedgerTransaction:
    return ledger.post(TransactionKind.WITHDRAWAL_REQUESTED, f"{prefix}:{withdrawal_id}:requested", [
        (ledger.account(available, owner_id), amount_fen),
        (ledger.account(AccountKind.PAYOUTS), -amount_fen),
    ], source=prefix, source_id=withdrawal_id, memo=memo)


def release(prefix: str, withdrawal_id: int, available: AccountKind, owner_id: int, amount_fen: int,
            memo: str | None = None) -> LedgerTransaction:
    return ledger.post(TransactionKind.WITHDRAWAL_RELEASED, f"{prefix}:{withdrawal_id}:released", [
        (ledger.account(AccountKind.PAYOUTS), amount_fen),
        (ledger.account(available, owner_id), -amount_fen),
    ], source=prefix, source_id=withdrawal_id, memo=memo)


def pay(prefix: str, withdrawal_id: int, amount_fen: int, fee_fen: int, paid_from: str,
        memo: str | None = None) -> LedgerTransaction:
    """`paid_from` is the gateway whose clearing account the transfer left (`paying_accounts`)."""
    lines = [(ledger.account(AccountKind.PAYOUTS), amount_fen),
             (ledger.account(AccountKind.CLEARING, provider=paid_from), -(amount_fen - fee_fen))]
    if fee_fen:
        lines.append((ledger.account(AccountKind.PLATFORM_FEES), -fee_fen))
    return ledger.post(TransactionKind.WITHDRAWAL_PAID, f"{prefix}:{withdrawal_id}:paid", lines,
                       source=prefix, source_id=withdrawal_id, memo=memo)


def paying_accounts() -> list[tuple[str, int]]:
    """(gateway, what its clearing account holds), the fullest first: where finance may
    pay a withdrawal from (the first is the default)."""
    rows = db.session.execute(sa.select(LedgerAccount.provider, LedgerAccount.balance_fen)
                              .where(LedgerAccount.kind == AccountKind.CLEARING)
                              .order_by(LedgerAccount.balance_fen.desc(), LedgerAccount.provider)).all()
    return [(row.provider, row.balance_fen) for row in rows]


def choose_paying_account(paid_from: str | None) -> str:
    """The gateway finance chose to pay from, when it is one of `paying_accounts()`; the
    first (the fullest) when none was chosen. ValidationError on `paid_from` otherwise."""
    accounts = [provider for provider, _balance in paying_accounts()]
    chosen = (paid_from or "").strip()
    if not accounts:
        message = _("还没有可用于打款的收款账户")
        raise ValidationError(message, code=FinanceError.INVALID_PAYING_ACCOUNT, fields={"paid_from": message})
    if not chosen:
        return accounts[0]
    if chosen not in accounts:
        message = _("请选择打款账户")
        raise ValidationError(message, code=FinanceError.INVALID_PAYING_ACCOUNT, fields={"paid_from": message})
    return chosen
