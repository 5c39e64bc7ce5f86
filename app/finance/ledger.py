"""Posting to the books: the one way money is written down (docs/finance.md).

Guarantees:
- `post(kind, key, lines, ...)` writes one `LedgerTransaction` and its entries in the
  caller's database transaction (services flush; the caller commits), or nothing:
  - `lines` are `(account, amount_fen)`, debits positive, credits negative, each a non-zero
    whole number of fen within the bounds; they must sum to zero (a ValueError otherwise:
    an unbalanced posting is a bug, never input);
  - idempotent: a key already posted returns that transaction and posts nothing again;
    two racing posts of one key write it once (the key is unique; the second waits for the
    first and then finds it);
  - each account's cached `balance_fen` moves by its lines' sum in one UPDATE, accounts
    taken in id order (two postings never deadlock on each other's rows), and an account
    that may not go below zero (every kind but debts) refuses the move with
    `InsufficientBalance` when it would, so two withdrawals racing for one balance cannot
    both take it.
- On PostgreSQL the database itself refuses, at commit, a transaction whose entries do not
  sum to zero (a deferred constraint trigger), and any UPDATE or DELETE of an entry or a
  transaction (the books are append-only: a mistake is corrected by another posting).
- `recount(account)` is the sum of the entries, for reconciliation to compare with the
  cached balance.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from app.core.bounds import MAX_INT
from app.core.clock import utcnow
from app.core.db import upsert
from app.extensions import db
from app.finance.errors import InsufficientBalance
from app.finance.models import LedgerAccount, LedgerEntry, LedgerTransaction
from app.finance.states import BY_PROVIDER, MAY_GO_NEGATIVE, NORMAL_DEBIT, OWNED, AccountKind


def code_of(kind: AccountKind, owner_id: int | None = None, provider: str | None = None) -> str:
    if kind in OWNED:
        if owner_id is None:
            raise ValueError(f"{kind} accounts belong to someone")
        return f"{kind}:{int(owner_id)}"
    if kind in BY_PROVIDER:
        if not provider:
            raise ValueError(f"{kind} accounts are per gateway")
        return f"{kind}:{provider}"
    return str(kind)



def account(kind: AccountKind, owner_id: int | None = None, provider: str | None = None) -> LedgerAccount:
    """The account, opened on first use (two first uses at once open it once)."""
    code = code_of(kind, owner_id, provider)
    found = db.session.scalar(sa.select(LedgerAccount).where(LedgerAccount.code == code))
    if found is not None:
        return found
    db.session.execute(upsert(LedgerAccount).values(
        code=code, kind=str(kind), owner_id=owner_id if kind in OWNED else None,
        provider=provider if kind in BY_PROVIDER else None, balance_fen=0, created_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["code"]))
    return db.session.scalar(sa.select(LedgerAccount).where(LedgerAccount.code == code))


def post(kind: str, key: str, lines: Iterable[tuple[LedgerAccount, int]], *, source: str | None = None,
         source_id: int | None = None, order_id: int | None = None, memo: str | None = None,
         effective_at: datetime | None = None) -> LedgerTransaction:
    """Write one balanced transaction (see the module's guarantees). Flushes only."""
    lines = [(acct, int(amount)) for acct, amount in lines if int(amount) != 0]
    if not lines:
        raise ValueError("a posting needs at least one non-zero line")
    if any(abs(amount) > MAX_INT for _acct, amount in lines):
        raise ValueError("an amount beyond the bounds")
    if sum(amount for _acct, amount in lines) != 0:
        raise ValueError(f"unbalanced posting {kind} {key}: {[(a.code, n) for a, n in lines]}")
    now = utcnow()
    inserted = db.session.execute(upsert(LedgerTransaction).values(
        kind=str(kind), idempotency_key=key[:120], source=source, source_id=source_id, order_id=order_id,
        memo=(memo or None) and memo[:200], effective_at=effective_at or now, created_at=now,
    ).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(LedgerTransaction.id)).scalar()
    if inserted is None:  # posted before (or by a racing request that has now committed)
        return db.session.scalar(sa.select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key[:120]))
    moves: dict[int, int] = defaultdict(int)
    kinds: dict[int, str] = {}
    for acct, amount in lines:
        moves[acct.id] += amount
        kinds[acct.id] = acct.kind
    for account_id in sorted(moves):
        _move_balance(account_id, kinds[account_id], moves[account_id])
    db.session.execute(sa.insert(LedgerEntry), [
        {"transaction_id": inserted, "account_id": acct.id, "amount_fen": amount} for acct, amount in lines])
    db.session.flush()
    for acct, _amount in lines:
        db.session.expire(acct, ["balance_fen"])
    return db.session.get(LedgerTransaction, inserted)


def _move_balance(account_id: int, kind: str, delta: int) -> None:
    if not delta:
        return
    stmt = sa.update(LedgerAccount).where(LedgerAccount.id == account_id)
    shrinks = delta < 0 if kind in NORMAL_DEBIT else delta > 0
    if shrinks and kind not in MAY_GO_NEGATIVE:
        # What it shows may not go below zero: debit-normal sums stay >= 0, the others <= 0.
        stmt = stmt.where((LedgerAccount.balance_fen + delta >= 0) if kind in NORMAL_DEBIT
                          else (LedgerAccount.balance_fen + delta <= 0))
    moved = db.session.execute(stmt.values(balance_fen=LedgerAccount.balance_fen + delta)
                               .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise InsufficientBalance(account_id)


def shown_balance(kind: AccountKind, owner_id: int | None = None, provider: str | None = None) -> int:
    """What the account shows (0 for an account never used), without opening it."""
    row = db.session.execute(sa.select(LedgerAccount.kind, LedgerAccount.balance_fen)
                             .where(LedgerAccount.code == code_of(kind, owner_id, provider))).first()
    if row is None:
        return 0
    return row.balance_fen if row.kind in NORMAL_DEBIT else -row.balance_fen


def recount(account_id: int) -> int:
    """The sum of the account's entries (what `balance_fen` must equal)."""
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_fen), 0))
                                 .where(LedgerEntry.account_id == account_id)))
