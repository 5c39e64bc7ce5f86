"""The books (app/finance/ledger.py): balanced, idempotent, append-only postings; cached
balances that match their entries and never go below zero, even with real threads."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from app.core.db import transaction
from app.extensions import db
from app.finance import ledger
from app.finance.errors import InsufficientBalance
from app.finance.models import LedgerAccount, LedgerEntry, LedgerTransaction
from app.finance.states import AccountKind, TransactionKind
from tests.race import at_once


def counts() -> tuple[int, int]:
    return (db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction)),
            db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)))


def collect(order_id: int, amount: int, merchant_id: int = 7, provider: str = "wechat"):
    """A payment collected for a shop: the gateway holds it, the shop is owed it."""
    return ledger.post(TransactionKind.COLLECTION, f"payment:{order_id}", [
        (ledger.account(AccountKind.CLEARING, provider=provider), amount),
        (ledger.account(AccountKind.MERCHANT_PENDING, merchant_id), -amount),
    ], source="order", source_id=order_id)


def test_a_posting_moves_balances_and_reads_as_people_expect():
    with transaction():
        posted = collect(1, 10_000)
    assert [(e.account.code, e.amount_fen) for e in posted.entries] == [
        ("clearing:wechat", 10_000), ("merchant_pending:7", -10_000)]
    # the gateway holds ¥100; the platform owes the shop ¥100
    assert ledger.shown_balance(AccountKind.CLEARING, provider="wechat") == 10_000
    assert ledger.shown_balance(AccountKind.MERCHANT_PENDING, 7) == 10_000
    assert ledger.shown_balance(AccountKind.MERCHANT_AVAILABLE, 7) == 0  # never opened
    for acct in db.session.scalars(sa.select(LedgerAccount)):
        assert ledger.recount(acct.id) == acct.balance_fen


def test_posting_a_key_again_posts_nothing_more():
    with transaction():
        first = collect(2, 5_000)
    with transaction():
        again = collect(2, 5_000)
    assert again.id == first.id and counts() == (1, 2)
    assert ledger.shown_balance(AccountKind.MERCHANT_PENDING, 7) == 5_000


@pytest.mark.parametrize("lines", [
    [(AccountKind.PLATFORM_FEES, 100)],  # one-sided
    [(AccountKind.PLATFORM_FEES, 100), (AccountKind.REFUNDS, -99)],  # off by a fen
    [],  # nothing
])
def test_an_unbalanced_posting_is_a_bug_and_writes_nothing(lines):
    with pytest.raises(ValueError):
        ledger.post(TransactionKind.ADJUSTMENT, "bad", [(ledger.account(kind), n) for kind, n in lines])
    assert counts() == (0, 0)


def test_no_account_but_debts_goes_below_zero_and_a_refused_posting_leaves_nothing():
    with transaction():
        collect(3, 3_000)
    with pytest.raises(InsufficientBalance) as refused, transaction():
        ledger.post(TransactionKind.ADJUSTMENT, "too-much", [
            (ledger.account(AccountKind.MERCHANT_PENDING, 7), 3_001),
            (ledger.account(AccountKind.PLATFORM_FEES), -3_001)])
    assert refused.value.code == "insufficient_balance" and refused.value.status == 409
    assert counts() == (1, 2) and ledger.shown_balance(AccountKind.MERCHANT_PENDING, 7) == 3_000
    # a clawback beyond a distributor's balance is a debt: the debts account may read below zero
    with transaction():
        ledger.post(TransactionKind.COMMISSION_CLAWBACK, "clawback:1", [
            (ledger.account(AccountKind.DISTRIBUTOR_DEBTS, 5), -800), (ledger.account(AccountKind.MERCHANT_PENDING, 7), 800)])
    assert ledger.shown_balance(AccountKind.DISTRIBUTOR_DEBTS, 5) == -800
    assert ledger.shown_balance(AccountKind.MERCHANT_PENDING, 7) == 2_200


def test_the_database_refuses_an_unbalanced_transaction_at_commit():
    with transaction():
        collect(4, 1_000)
    clearing = ledger.account(AccountKind.CLEARING, provider="wechat")
    posted = db.session.scalar(sa.select(LedgerTransaction.id))
    with pytest.raises(DBAPIError, match="does not balance"), db.session.begin_nested():
        # what commit would do, now: the deferred check runs as the statement ends
        db.session.execute(sa.text("SET CONSTRAINTS ledger_entries_balanced IMMEDIATE"))
        db.session.execute(sa.insert(LedgerEntry).values(transaction_id=posted, account_id=clearing.id, amount_fen=1))
    db.session.execute(sa.text("SET CONSTRAINTS ledger_entries_balanced DEFERRED"))


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_entries SET amount_fen = amount_fen * 2",
    "DELETE FROM ledger_entries",
    "UPDATE ledger_transactions SET memo = 'edited'",
    "DELETE FROM ledger_transactions",
])
def test_the_books_are_append_only(statement):
    with transaction():
        collect(5, 1_000)
    with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(sa.text(statement))
    assert counts() == (1, 2)


@pytest.mark.live_db
def test_two_withdrawals_racing_for_one_balance_take_it_once(app):
    with transaction():
        collect(6, 10_000, merchant_id=9)
        ledger.post(TransactionKind.MERCHANT_SETTLEMENT, "settle:6", [
            (ledger.account(AccountKind.MERCHANT_PENDING, 9), 10_000),
            (ledger.account(AccountKind.MERCHANT_AVAILABLE, 9), -10_000)])
        ledger.account(AccountKind.PAYOUTS)

    def withdraw(i: int):
        with transaction():
            return ledger.post(TransactionKind.WITHDRAWAL_PAID, f"withdrawal:{i}", [
                (ledger.account(AccountKind.MERCHANT_AVAILABLE, 9), 7_000),
                (ledger.account(AccountKind.PAYOUTS), -7_000)]).id

    outcomes = at_once(2, withdraw, app=app)
    assert sorted(type(o).__name__ for o in outcomes) == ["InsufficientBalance", "int"]
    db.session.expire_all()
    assert ledger.shown_balance(AccountKind.MERCHANT_AVAILABLE, 9) == 3_000
    for acct in db.session.scalars(sa.select(LedgerAccount)):
        assert ledger.recount(acct.id) == acct.balance_fen


@pytest.mark.live_db
def test_one_key_posted_from_two_threads_is_written_once(app):
    def pay(_i: int):
        with transaction():
            return collect(8, 2_500, merchant_id=11).id

    outcomes = at_once(2, pay, app=app)
    assert len(set(outcomes)) == 1 and isinstance(outcomes[0], int), outcomes
    db.session.expire_all()
    assert counts() == (1, 2)
    assert ledger.shown_balance(AccountKind.MERCHANT_PENDING, 11) == 2_500
