"""What each business change writes in the books (docs/finance.md, "Postings").

Receivers of the domains' signals (wired in `app/receivers.py`): each runs in the
transaction of the change that announced it, so the money is written down with the change
or not at all. Each posting has a key made of the business row, so a replayed callback,
job or signal posts nothing twice.

Guarantees:
- An order's money is the shop's pending money from the moment it is paid; its
  commissions, refunds and fee come out of it; when the order completes (its after-sales
  window over with nothing open) what is left moves to the shop's available money, less
  the platform's fee and whatever the shop owes (`settle_order`, once: `orders.settled_at`).
- Whether a refund or a commission change touches the shop's pending or available money
  is decided under the order's row lock, the same lock settlement takes: a refund racing
  the settlement of its order is taken from the one or the other, never both or neither.
- Money the shop or a distributor no longer holds (a refund or clawback after they were
  paid and withdrew) becomes a debt (`*_debts`), which their next money pays first.
- A gateway's confirmation of a refund is never refused for the books' sake: if the
  posting cannot be made (the clearing account reads short, which means the books and
  the gateway disagree) it is left out and logged, and reconciliation lists it.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa

from app.core.clock import utcnow
from app.core.money import apply_rate, prorate
from app.extensions import db
from app.finance import ledger
from app.finance.errors import InsufficientBalance
from app.finance.models import LedgerAccount, LedgerEntry, LedgerTransaction
from app.finance.states import NORMAL_DEBIT, AccountKind, TransactionKind
from app.orders.models import Order, OrderItem
from app.payments.models import Payment

log = logging.getLogger(__name__)


# --- shared steps -----------------------------------------------------------------------------


def _locked_order(order_id: int) -> Order:
    """The order, its row locked to the end of the transaction (PostgreSQL; SQLite has one
    writer at a time anyway): settlement and every change to the order's money queue here."""
    # FOR NO KEY UPDATE: rows that merely point at the order (its events, an after-sale
    # being opened) hold a key-share lock on it, which this must not wait for.
    return db.session.scalar(sa.select(Order).where(Order.id == order_id).with_for_update(key_share=True)
                             .execution_options(populate_existing=True))


def _held(kind: AccountKind, owner_id: int) -> int:
    """What an account shows now, its row locked to the end of the transaction (the caller
    then takes or pays at most that, and no one else can meanwhile)."""
    acct = ledger.account(kind, owner_id)
    balance = db.session.scalar(sa.select(LedgerAccount.balance_fen).where(LedgerAccount.id == acct.id)
                                .with_for_update(key_share=True))
    return balance if kind in NORMAL_DEBIT else -balance


def _take(available: AccountKind, debts: AccountKind, owner_id: int, amount: int) -> list:
    """Debit lines taking `amount` from an owner's available money, the part it does not
    hold becoming a debt."""
    from_available = max(0, min(amount, _held(available, owner_id)))
    lines = []
    if from_available:
        lines.append((ledger.account(available, owner_id), from_available))
    if amount - from_available:
        lines.append((ledger.account(debts, owner_id), amount - from_available))
    return lines


def _pay_to(available: AccountKind, debts: AccountKind, owner_id: int, amount: int) -> list:
    """Credit lines giving `amount` to an owner: their debt is paid first."""
    owed = _held(debts, owner_id)
    to_debt = max(0, min(amount, owed))
    lines = []
    if to_debt:
        lines.append((ledger.account(debts, owner_id), -to_debt))
    if amount - to_debt:
        lines.append((ledger.account(available, owner_id), -(amount - to_debt)))
    return lines


def _shop_lines(order: Order, amount: int) -> list:
    """Credit lines giving `amount` back to the shop for `order`: to pending while the order
    is not settled, else to its available money (its debt first)."""
    if order.settled_at is None:
        return [(ledger.account(AccountKind.MERCHANT_PENDING, order.merchant_id), -amount)]
    return _pay_to(AccountKind.MERCHANT_AVAILABLE, AccountKind.MERCHANT_DEBTS, order.merchant_id, amount)


def _posted(key: str) -> bool:
    return db.session.scalar(sa.select(LedgerTransaction.id).where(LedgerTransaction.idempotency_key == key)) is not None


# --- payments and refunds ---------------------------------------------------------------------


def order_paid(order, **_kw) -> None:
    """The order's money arrived: it is the shop's, pending."""
    provider = db.session.scalar(sa.select(Payment.provider).where(Payment.id == order.payment_id))
    ledger.post(TransactionKind.COLLECTION, f"order-paid:{order.id}", [
        (ledger.account(AccountKind.CLEARING, provider=provider), order.amount_fen),
        (ledger.account(AccountKind.MERCHANT_PENDING, order.merchant_id), -order.amount_fen),
    ], source="payment", source_id=order.payment_id, order_id=order.id, memo=order.order_no,
        effective_at=order.paid_at)


def refund_started(refund, counted: bool = True, **_kw) -> None:
    """Money is going back to a buyer. From the shop when it came from one of the shop's
    paid orders; otherwise it never was anyone's (an order cancelled before its money
    arrived, what a trade took beyond its orders, a trade paid twice) and is written as
    collected and owed back at once."""
    key = f"refund:{refund.id}:started"
    owed_back = ledger.account(AccountKind.REFUNDS)
    if refund.order_id is not None and _posted(f"order-paid:{refund.order_id}"):
        order = _locked_order(refund.order_id)
        if order.settled_at is None:
            lines = [(ledger.account(AccountKind.MERCHANT_PENDING, order.merchant_id), refund.amount_fen)]
        else:
            # After settlement the fee on what went back goes back too: the shop pays the
            # refund less it, so the order ends the same whichever came first.
            fee_back = max(0, _fee_charged(order.id) - fee_of(order.id))
            lines = _take(AccountKind.MERCHANT_AVAILABLE, AccountKind.MERCHANT_DEBTS, order.merchant_id,
                          refund.amount_fen - fee_back)
            if fee_back:
                lines.append((ledger.account(AccountKind.PLATFORM_FEES), fee_back))
        ledger.post(TransactionKind.REFUND_STARTED, key, [*lines, (owed_back, -refund.amount_fen)],
                    source="refund", source_id=refund.id, order_id=order.id, memo=refund.reason)
        return
    kind = TransactionKind.COLLECTION if counted else TransactionKind.DUPLICATE_COLLECTION
    ledger.post(kind, key, [
        (ledger.account(AccountKind.CLEARING, provider=refund.provider), refund.amount_fen),
        (owed_back, -refund.amount_fen),
    ], source="refund", source_id=refund.id, order_id=refund.order_id, memo=refund.reason)


def refund_done(refund, **_kw) -> None:
    """The buyer has the money back: it leaves the gateway that took it."""
    try:
        with db.session.begin_nested():
            ledger.post(TransactionKind.REFUND_DONE, f"refund:{refund.id}:done", [
                (ledger.account(AccountKind.REFUNDS), refund.amount_fen),
                (ledger.account(AccountKind.CLEARING, provider=refund.provider), -refund.amount_fen),
            ], source="refund", source_id=refund.id, order_id=refund.order_id, memo=refund.out_refund_no,
                effective_at=refund.finished_at)
    except InsufficientBalance:
        log.error("refund %s confirmed but the books cannot take it out of clearing:%s; "
                  "reconciliation will list it", refund.out_refund_no, refund.provider)


# --- commissions ------------------------------------------------------------------------------


def commission_made(commission, amount_fen: int, **_kw) -> None:
    """A share of the order's money is the distributor's, pending."""
    order = db.session.get(Order, commission.order_id)
    ledger.post(TransactionKind.COMMISSION_MADE, f"commission:{commission.id}:made", [
        (ledger.account(AccountKind.MERCHANT_PENDING, order.merchant_id), amount_fen),
        (ledger.account(AccountKind.DISTRIBUTOR_PENDING, commission.distributor_id), -amount_fen),
    ], source="commission", source_id=commission.id, order_id=order.id, memo=order.order_no)


def commission_voided(commission, amount_fen: int, void_fen: int, **_kw) -> None:
    """A refund before settlement: that share of the commission goes back to the shop."""
    order = _locked_order(commission.order_id)
    ledger.post(TransactionKind.COMMISSION_VOIDED, f"commission:{commission.id}:void:{void_fen}", [
        (ledger.account(AccountKind.DISTRIBUTOR_PENDING, commission.distributor_id), amount_fen),
        *_shop_lines(order, amount_fen),
    ], source="commission", source_id=commission.id, order_id=order.id, memo=order.order_no)


def commission_settled(commission, amount_fen: int, **_kw) -> None:
    """The commission is the distributor's to withdraw (their debt paid first)."""
    ledger.post(TransactionKind.COMMISSION_SETTLED, f"commission:{commission.id}:settled", [
        (ledger.account(AccountKind.DISTRIBUTOR_PENDING, commission.distributor_id), amount_fen),
        *_pay_to(AccountKind.DISTRIBUTOR_AVAILABLE, AccountKind.DISTRIBUTOR_DEBTS, commission.distributor_id,
                 amount_fen),
    ], source="commission", source_id=commission.id, order_id=commission.order_id)


def commission_clawed_back(commission, amount_fen: int, void_fen: int, **_kw) -> None:
    """A refund after settlement: the distributor gives that share back to the shop (from
    their balance, the rest as a debt)."""
    order = _locked_order(commission.order_id)
    ledger.post(TransactionKind.COMMISSION_CLAWBACK, f"commission:{commission.id}:clawback:{void_fen}", [
        *_take(AccountKind.DISTRIBUTOR_AVAILABLE, AccountKind.DISTRIBUTOR_DEBTS, commission.distributor_id,
               amount_fen),
        *_shop_lines(order, amount_fen),
    ], source="commission", source_id=commission.id, order_id=order.id, memo=order.order_no)


# --- settlement -------------------------------------------------------------------------------


def pending_of(order_id: int, merchant_id: int) -> int:
    """What the order still holds in its shop's pending money (the sum of its lines there)."""
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_fen), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerTransaction.order_id == order_id,
               LedgerAccount.code == ledger.code_of(AccountKind.MERCHANT_PENDING, merchant_id)))
    return -int(total)


def _fee_charged(order_id: int) -> int:
    """The fee the platform holds for the order now (charged at settlement, less what went back)."""
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_fen), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerTransaction.order_id == order_id, LedgerAccount.kind == AccountKind.PLATFORM_FEES))
    return -int(total)


def fee_of(order_id: int) -> int:
    """The platform's fee on an order: each item's rate (kept at the order) on what of it
    the buyer kept, shipping excluded."""
    items = db.session.execute(sa.select(OrderItem.paid_fen, OrderItem.quantity, OrderItem.refunded_quantity,
                                         OrderItem.platform_fee_bp).where(OrderItem.order_id == order_id)).all()
    return sum(apply_rate(item.paid_fen - prorate(item.paid_fen, min(item.refunded_quantity, item.quantity),
                                                  item.quantity), item.platform_fee_bp)
               for item in items)


def settle_order(order, **_kw) -> bool:
    """The order completed: what it left in pending becomes the shop's available money,
    less the fee (never more than what is left) and the shop's debt. Once per order
    (`settled_at`, under the order's lock); True when this call settled it."""
    order = _locked_order(order.id)
    if order.settled_at is not None:
        return False
    held = pending_of(order.id, order.merchant_id)
    if held > 0:
        fee = min(fee_of(order.id), held)
        lines = [(ledger.account(AccountKind.MERCHANT_PENDING, order.merchant_id), held)]
        if fee:
            lines.append((ledger.account(AccountKind.PLATFORM_FEES), -fee))
        lines += _pay_to(AccountKind.MERCHANT_AVAILABLE, AccountKind.MERCHANT_DEBTS, order.merchant_id, held - fee)
        ledger.post(TransactionKind.MERCHANT_SETTLEMENT, f"order-settled:{order.id}", lines,
                    source="order", source_id=order.id, order_id=order.id, memo=order.order_no)
    elif held < 0:  # a fen of rounding between the order's shares: the shop's available money covers it
        ledger.post(TransactionKind.MERCHANT_SETTLEMENT, f"order-settled:{order.id}", [
            *_take(AccountKind.MERCHANT_AVAILABLE, AccountKind.MERCHANT_DEBTS, order.merchant_id, -held),
            (ledger.account(AccountKind.MERCHANT_PENDING, order.merchant_id), held),
        ], source="order", source_id=order.id, order_id=order.id, memo=order.order_no)
    db.session.execute(sa.update(Order).where(Order.id == order.id, Order.settled_at.is_(None))
                       .values(settled_at=utcnow()).execution_options(synchronize_session=False))
    return True
