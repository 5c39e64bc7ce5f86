"""What the books must say after any sequence of business changes (docs/finance.md, "What
the books promise"), checked against the business tables themselves: the postings and
the payments, refunds, commissions and withdrawals are written by different code, so a
posting missed, doubled or taken from the wrong account shows here."""
from __future__ import annotations

import sqlalchemy as sa

from app.distribution import queries as distribution_queries
from app.distribution.models import Distributor, Withdrawal
from app.distribution.states import IN_PROGRESS, WithdrawalStatus
from app.extensions import db
from app.finance import ledger
from app.finance.models import LedgerAccount, LedgerEntry, LedgerTransaction, MerchantWithdrawal
from app.finance.states import MAY_GO_NEGATIVE, AccountKind, TransactionKind
from app.payments.models import Payment, Refund
from app.payments.states import PaymentStatus, RefundStatus


def shown(kind: AccountKind) -> int:
    """The sum of what every account of `kind` shows."""
    balances = db.session.scalars(sa.select(LedgerAccount.balance_fen).where(LedgerAccount.kind == kind)).all()
    return sum(LedgerAccount(kind=kind, balance_fen=b).shown_fen for b in balances)


def collected() -> int:
    """Money the gateways took, from the payments and refunds tables: every paid trade, and
    every second collection of one (its refund is not counted on the payment)."""
    paid = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Payment.amount_fen), 0))
                             .where(Payment.status == PaymentStatus.PAID))
    duplicates = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Refund.amount_fen), 0))
                                   .where(Refund.out_refund_no.like("RD%")))
    return int(paid) + int(duplicates)


def assert_books_hold() -> None:
    db.session.flush()
    unbalanced = db.session.execute(sa.select(LedgerEntry.transaction_id).group_by(LedgerEntry.transaction_id)
                                    .having(sa.func.sum(LedgerEntry.amount_fen) != 0)).all()
    assert unbalanced == []
    for acct in db.session.scalars(sa.select(LedgerAccount).execution_options(populate_existing=True)):
        assert acct.balance_fen == ledger.recount(acct.id), acct.code
        if acct.kind not in MAY_GO_NEGATIVE:
            assert acct.shown_fen >= 0, (acct.code, acct.shown_fen)

    in_books = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_fen), 0))
        .join(LedgerTransaction).join(LedgerAccount)
        .where(LedgerAccount.kind == AccountKind.CLEARING, LedgerEntry.amount_fen > 0,
               LedgerTransaction.kind.in_((TransactionKind.COLLECTION, TransactionKind.DUPLICATE_COLLECTION))))
    assert in_books == collected()

    refunded = int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Refund.amount_fen), 0))
                                     .where(Refund.status == RefundStatus.SUCCEEDED)))
    refunding = int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Refund.amount_fen), 0))
                                      .where(Refund.status != RefundStatus.SUCCEEDED)))
    assert shown(AccountKind.REFUNDS) == refunding
    withdrawals = [*db.session.execute(sa.select(Withdrawal.status, Withdrawal.amount_fen, Withdrawal.fee_fen)),
                   *db.session.execute(sa.select(MerchantWithdrawal.status, MerchantWithdrawal.amount_fen,
                                                 MerchantWithdrawal.fee_fen))]
    # (the two kinds of withdrawal name their states alike)
    paid_out = sum(w.amount_fen - w.fee_fen for w in withdrawals if w.status == WithdrawalStatus.PAID)
    assert shown(AccountKind.PAYOUTS) == sum(w.amount_fen for w in withdrawals if w.status in IN_PROGRESS)
    held = (shown(AccountKind.MERCHANT_PENDING) + shown(AccountKind.MERCHANT_AVAILABLE)
            + shown(AccountKind.DISTRIBUTOR_PENDING) + shown(AccountKind.DISTRIBUTOR_AVAILABLE)
            + shown(AccountKind.REFUNDS) + shown(AccountKind.PAYOUTS)
            - shown(AccountKind.MERCHANT_DEBTS) - shown(AccountKind.DISTRIBUTOR_DEBTS))
    assert collected() == refunded + shown(AccountKind.PLATFORM_FEES) + paid_out + held

    # every distributor's books say what their own records say
    ids = list(db.session.scalars(sa.select(Distributor.id)))
    for distributor_id, money in distribution_queries.earnings_of(ids).items():
        assert ledger.shown_balance(AccountKind.DISTRIBUTOR_PENDING, distributor_id) == money.pending_fen
        assert (ledger.shown_balance(AccountKind.DISTRIBUTOR_AVAILABLE, distributor_id)
                - ledger.shown_balance(AccountKind.DISTRIBUTOR_DEBTS, distributor_id)) == money.balance_fen
