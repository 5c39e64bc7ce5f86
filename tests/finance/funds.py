"""Money in a shop's accounts for the tests, posted straight to the books (until the
postings from orders exist): a collection into pending, then a settlement of it into
available (less a platform fee)."""
from __future__ import annotations

import itertools

from app.finance import ledger
from app.finance.states import AccountKind, TransactionKind

_keys = itertools.count(1)


def collect(merchant_id: int, amount_fen: int, *, provider: str = "sandbox", order_id: int | None = None,
            key: str | None = None, effective_at=None):
    key = key or f"test:{next(_keys)}"
    return ledger.post(TransactionKind.COLLECTION, f"{key}:collect:{merchant_id}", [
        (ledger.account(AccountKind.CLEARING, provider=provider), amount_fen),
        (ledger.account(AccountKind.MERCHANT_PENDING, merchant_id), -amount_fen),
    ], source="order", source_id=order_id, order_id=order_id, effective_at=effective_at)


def settle(merchant_id: int, amount_fen: int, fee_fen: int = 0, *, order_id: int | None = None,
           key: str | None = None, effective_at=None):
    key = key or f"test:{next(_keys)}"
    return ledger.post(TransactionKind.MERCHANT_SETTLEMENT, f"{key}:settle:{merchant_id}", [
        (ledger.account(AccountKind.MERCHANT_PENDING, merchant_id), amount_fen),
        (ledger.account(AccountKind.PLATFORM_FEES), -fee_fen),
        (ledger.account(AccountKind.MERCHANT_AVAILABLE, merchant_id), -(amount_fen - fee_fen)),
    ], source="order", source_id=order_id, order_id=order_id, effective_at=effective_at)


def fund(merchant_id: int, available_fen: int, *, pending_fen: int = 0, fee_fen: int = 0,
         provider: str = "sandbox", order_id: int | None = None, effective_at=None) -> None:
    """The shop ends with `available_fen` more to withdraw (collected and settled with a
    fee of `fee_fen`) and `pending_fen` more still pending. Flushes only."""
    key = f"test:{next(_keys)}"
    collect(merchant_id, available_fen + fee_fen + pending_fen, provider=provider, order_id=order_id, key=key,
            effective_at=effective_at)
    if available_fen + fee_fen:
        settle(merchant_id, available_fen + fee_fen, fee_fen, order_id=order_id, key=key, effective_at=effective_at)
