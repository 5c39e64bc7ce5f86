"""Reconciliation (对账): one Asia/Shanghai day of our books checked against our own records
and, when given, against the gateways' bills (docs/finance.md, Reconciliation).

Guarantees:
- `reconcile(day, bills, actor)` writes a new `ReconciliationRun` with every difference it
  found (a re-run of a day is another run: the history stays), in the caller's transaction
  (flushes only). It reads and never posts: a difference is for a person to look at.
- Internal checks, every run: each payment paid that day was collected exactly (the clearing
  debits of its `collection`/`duplicate_collection` postings = its amount, plus the amount of
  each second collection of it, which goes back whole); each refund created that day has its
  `refund:<id>:started` posting of its amount on `refunds`, each one that succeeded that day
  its `refund:<id>:done`; each commission made that day its `commission:<id>:made`; each
  order completed that day was settled and holds nothing more in `merchant_pending`; each
  withdrawal paid that day has its `<prefix>:<id>:paid`; every transaction of the day
  balances; every account's cached balance equals the sum of its entries.
- Bill checks, per gateway bill given: each payment row is one of our paid payments of that
  gateway with the same trade number and amount (a second collection of a trade, under
  another gateway transaction id, is our duplicate-collection refund of it); each of our
  payments of that gateway paid that day is in the bill; each refund row is one of our
  refunds by `out_refund_no`, succeeded when the bill says so, of the same amount.
- Only an admin allowed `finance.reconcile` (finance, super) may run one by hand, and mark a
  difference handled (with a note; once; audited). The nightly job (`actor=None`,
  trigger `job`) reconciles a day at most once (`job_day` is unique).
- A fixed number of queries per kind of check, whatever the day holds (keys looked up in
  chunks of `CHUNK`).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app.accounts.policies import can
from app.core import audit
from app.core.clock import SHANGHAI, utcnow
from app.core.db import add_unique
from app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from app.core.lifecycle import NOTE_MAX
from app.distribution.models import Commission, Withdrawal
from app.distribution.states import WithdrawalStatus
from app.extensions import db
from app.finance import merchant_withdrawals
from app.finance.bills import BillRow, BillRowKind
from app.finance.models import LedgerAccount, LedgerEntry, LedgerTransaction, MerchantWithdrawal
from app.finance.reconciliation_models import ReconciliationDifference, ReconciliationRun
from app.finance.reconciliation_states import DifferenceKind, ReconciliationError, RunTrigger
from app.finance.states import AccountKind, TransactionKind
from app.finance.withdrawal_states import MerchantWithdrawalStatus
from app.orders.models import Order
from app.orders.numbers import duplicate_refund_no
from app.orders.states import OrderStatus
from app.payments.models import Payment, Refund
from app.payments.states import PaymentStatus, RefundStatus

RECONCILE = "finance.reconcile"
HANDLE_AUDIT_ACTION = "reconciliation.handle"
CHUNK = 500
COLLECTION_KINDS = (TransactionKind.COLLECTION, TransactionKind.DUPLICATE_COLLECTION)
# The posting prefixes of the withdrawals whose paid step must be in the books.
WITHDRAWAL_PREFIX = "distributor-withdrawal"
MERCHANT_WITHDRAWAL_PREFIX = merchant_withdrawals.PREFIX


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of an Asia/Shanghai day, in UTC."""
    start = datetime.combine(day, time.min, tzinfo=SHANGHAI)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def today() -> date:
    return utcnow().astimezone(SHANGHAI).date()


def _chunks(values: Iterable, size: int = CHUNK):
    values = list(values)
    for i in range(0, len(values), size):
        yield values[i:i + size]


@dataclass
class Found:
    kind: DifferenceKind
    reference: str
    expected_fen: int | None = None
    actual_fen: int | None = None
    detail: str = ""
    provider: str | None = None


# --- the run --------------------------------------------------------------------------------------


def reconcile(day: date, bills: Sequence[tuple[str, list[BillRow]]] = (), actor=None, *,
              trigger: RunTrigger = RunTrigger.ADMIN, filenames: dict[str, str] | None = None) -> ReconciliationRun:
    """Check `day` (see the module's guarantees) and store the run with what it found."""
    if actor is not None and not can(actor, RECONCILE):
        raise Forbidden(_("没有权限执行此操作"))
    if not isinstance(day, date) or day > today():
        message = _("只能对今天及以前的日期对账")
        raise ValidationError(message, code=ReconciliationError.BAD_DAY, fields={"day": message})
    run = ReconciliationRun(day=day, trigger=str(trigger), actor_id=getattr(actor, "id", None),
                            job_day=day if trigger == RunTrigger.JOB else None, started_at=utcnow())
    add_unique(run, Conflict(_("该日已自动对账"), code=ReconciliationError.DAY_RECONCILED))
    start, end = day_bounds(day)
    found: list[Found] = []
    checked: dict[str, int] = {}
    paid = list(db.session.scalars(sa.select(Payment).where(
        Payment.status == PaymentStatus.PAID, Payment.paid_at >= start, Payment.paid_at < end).order_by(Payment.id)))
    checked["payments"] = len(paid)
    found += _check_collections(paid)
    found += _check_refunds(start, end, checked)
    found += _check_commissions(start, end, checked)
    found += _check_orders(start, end, checked)
    found += _check_withdrawals(start, end, checked)
    found += _check_transactions(start, end, checked)
    found += _check_balances(checked)
    summaries = []
    for provider, rows in bills:
        found += _check_bill(provider, rows, [p for p in paid if p.provider == provider])
        summaries.append({"provider": provider, "filename": (filenames or {}).get(provider),
                          "payments": sum(1 for r in rows if r.kind == BillRowKind.PAYMENT),
                          "refunds": sum(1 for r in rows if r.kind == BillRowKind.REFUND)})
    db.session.add_all(ReconciliationDifference(
        run_id=run.id, kind=str(f.kind), provider=f.provider, reference=f.reference[:120], expected_fen=f.expected_fen,
        actual_fen=f.actual_fen, detail=(f.detail or "")[:300]) for f in found)
    run.bills, run.checked, run.difference_count, run.finished_at = summaries, checked, len(found), utcnow()
    db.session.flush()
    return run


# --- what the books hold ------------------------------------------------------------------------


def _posted(keys: Iterable[str]) -> dict[str, dict[str, int]]:
    """key -> {account kind: the sum of the posting's lines on accounts of that kind}."""
    out: dict[str, dict[str, int]] = {}
    for chunk in _chunks(set(keys)):
        rows = db.session.execute(
            sa.select(LedgerTransaction.idempotency_key, LedgerAccount.kind, sa.func.sum(LedgerEntry.amount_fen))
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(LedgerTransaction.idempotency_key.in_(chunk))
            .group_by(LedgerTransaction.idempotency_key, LedgerAccount.kind))
        for key, kind, total in rows:
            out.setdefault(key, {})[kind] = int(total)
    return out


def _missing_or_off(posted: dict[str, dict[str, int]], key: str, kind: AccountKind, expected: int,
                    difference: DifferenceKind, reference: str) -> Found | None:
    """A difference when posting `key` is missing or moves other than `expected` on `kind`."""
    if key not in posted:
        return Found(difference, reference, expected, None, _("缺少分录 %(key)s", key=key))
    actual = posted[key].get(str(kind), 0)
    if actual != expected:
        return Found(difference, reference, expected, actual, _("分录 %(key)s 金额不符", key=key))
    return None


def collected_by_payment(payment_ids: list[int]) -> dict[int, int]:
    """What the clearing accounts took for each payment: the debits of its collections,
    those made for one of its refunds (money that went straight back) included."""
    out: dict[int, int] = defaultdict(int)
    clearing_debit = sa.and_(LedgerAccount.kind == AccountKind.CLEARING, LedgerEntry.amount_fen > 0)
    base = (sa.select(sa.func.sum(LedgerEntry.amount_fen)).select_from(LedgerTransaction)
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(LedgerTransaction.kind.in_([str(k) for k in COLLECTION_KINDS]), clearing_debit))
    for chunk in _chunks(payment_ids):
        direct = base.add_columns(LedgerTransaction.source_id).where(
            LedgerTransaction.source == "payment", LedgerTransaction.source_id.in_(chunk)
        ).group_by(LedgerTransaction.source_id)
        for total, payment_id in db.session.execute(direct):
            out[int(payment_id)] += int(total)
        by_refund = base.add_columns(Refund.payment_id).join(
            Refund, sa.and_(LedgerTransaction.source == "refund", Refund.id == LedgerTransaction.source_id)
        ).where(Refund.payment_id.in_(chunk)).group_by(Refund.payment_id)
        for total, payment_id in db.session.execute(by_refund):
            out[int(payment_id)] += int(total)
    return out


# --- the internal checks --------------------------------------------------------------------------


def _check_collections(paid: list[Payment]) -> list[Found]:
    ids = [p.id for p in paid]
    collected = collected_by_payment(ids)
    refunded: dict[int, int] = defaultdict(int)
    for chunk in _chunks(ids):
        for payment_id, total in db.session.execute(
                sa.select(Refund.payment_id, sa.func.sum(Refund.amount_fen)).where(Refund.payment_id.in_(chunk))
                .group_by(Refund.payment_id)):
            refunded[payment_id] = int(total)
    found = []
    for p in paid:
        # Refunds beyond what `refunded_fen` counts give back second collections of the trade.
        expected = p.amount_fen + max(0, refunded[p.id] - p.refunded_fen)
        if collected.get(p.id, 0) != expected:
            found.append(Found(DifferenceKind.COLLECTION_MISMATCH, p.out_trade_no, expected, collected.get(p.id, 0),
                               _("支付单 %(no)s 的收款分录合计与实收不符", no=p.out_trade_no)))
    return found


def _check_refunds(start: datetime, end: datetime, checked: dict) -> list[Found]:
    created = list(db.session.scalars(sa.select(Refund).where(Refund.created_at >= start, Refund.created_at < end)
                                      .order_by(Refund.id)))
    succeeded = list(db.session.scalars(sa.select(Refund).where(
        Refund.status == RefundStatus.SUCCEEDED, Refund.finished_at >= start, Refund.finished_at < end)
        .order_by(Refund.id)))
    checked["refunds_created"], checked["refunds_succeeded"] = len(created), len(succeeded)
    posted = _posted([f"refund:{r.id}:started" for r in created] + [f"refund:{r.id}:done" for r in succeeded])
    found = []
    for r in created:
        diff = _missing_or_off(posted, f"refund:{r.id}:started", AccountKind.REFUNDS, -r.amount_fen,
                               DifferenceKind.REFUND_START_MISSING, r.out_refund_no)
        if diff:
            diff.expected_fen, diff.actual_fen = r.amount_fen, None if diff.actual_fen is None else -diff.actual_fen
            found.append(diff)
    for r in succeeded:
        diff = _missing_or_off(posted, f"refund:{r.id}:done", AccountKind.REFUNDS, r.amount_fen,
                               DifferenceKind.REFUND_DONE_MISSING, r.out_refund_no)
        if diff:
            found.append(diff)
    return found


def _check_commissions(start: datetime, end: datetime, checked: dict) -> list[Found]:
    made = list(db.session.execute(sa.select(Commission.id, Commission.amount_fen).where(
        Commission.created_at >= start, Commission.created_at < end, Commission.amount_fen > 0).order_by(Commission.id)))
    checked["commissions"] = len(made)
    posted = _posted(f"commission:{c.id}:made" for c in made)
    found = []
    for c in made:
        diff = _missing_or_off(posted, f"commission:{c.id}:made", AccountKind.DISTRIBUTOR_PENDING, -c.amount_fen,
                               DifferenceKind.COMMISSION_MISSING, f"commission:{c.id}")
        if diff:
            diff.expected_fen, diff.actual_fen = c.amount_fen, None if diff.actual_fen is None else -diff.actual_fen
            found.append(diff)
    return found


def _check_orders(start: datetime, end: datetime, checked: dict) -> list[Found]:
    completed = list(db.session.execute(sa.select(Order.id, Order.order_no, Order.settled_at).where(
        Order.completed_at >= start, Order.completed_at < end, Order.status == OrderStatus.COMPLETED)
        .order_by(Order.id)))
    checked["orders_completed"] = len(completed)
    left: dict[int, int] = {}
    for chunk in _chunks([o.id for o in completed]):
        left.update({order_id: int(total) for order_id, total in db.session.execute(
            sa.select(LedgerTransaction.order_id, sa.func.sum(LedgerEntry.amount_fen))
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(LedgerAccount.kind == AccountKind.MERCHANT_PENDING, LedgerTransaction.order_id.in_(chunk))
            .group_by(LedgerTransaction.order_id))})
    found = []
    for o in completed:
        if o.settled_at is None:
            found.append(Found(DifferenceKind.ORDER_NOT_SETTLED, o.order_no, None, None,
                               _("订单 %(no)s 已完成但未结算", no=o.order_no)))
        elif left.get(o.id, 0):
            found.append(Found(DifferenceKind.ORDER_PENDING_LEFT, o.order_no, 0, -left[o.id],
                               _("订单 %(no)s 在店铺待结算中仍有余额", no=o.order_no)))
    return found


def _paid_withdrawals(start: datetime, end: datetime) -> list[tuple[str, int, int]]:
    """(posting prefix, id, amount) of every withdrawal paid in [start, end)."""
    out = [(WITHDRAWAL_PREFIX, w.id, w.amount_fen) for w in db.session.execute(
        sa.select(Withdrawal.id, Withdrawal.amount_fen).where(
            Withdrawal.status == WithdrawalStatus.PAID, Withdrawal.paid_at >= start, Withdrawal.paid_at < end)
        .order_by(Withdrawal.id))]
    out += [(MERCHANT_WITHDRAWAL_PREFIX, w.id, w.amount_fen) for w in db.session.execute(
        sa.select(MerchantWithdrawal.id, MerchantWithdrawal.amount_fen).where(
            MerchantWithdrawal.status == MerchantWithdrawalStatus.PAID, MerchantWithdrawal.paid_at >= start,
            MerchantWithdrawal.paid_at < end).order_by(MerchantWithdrawal.id))]
    return out


def _check_withdrawals(start: datetime, end: datetime, checked: dict) -> list[Found]:
    paid = _paid_withdrawals(start, end)
    checked["withdrawals"] = len(paid)
    posted = _posted(f"{prefix}:{wid}:paid" for prefix, wid, _amount in paid)
    found = []
    for prefix, wid, amount in paid:
        diff = _missing_or_off(posted, f"{prefix}:{wid}:paid", AccountKind.PAYOUTS, amount,
                               DifferenceKind.WITHDRAWAL_PAID_MISSING, f"{prefix}:{wid}")
        if diff:
            found.append(diff)
    return found


def _check_transactions(start: datetime, end: datetime, checked: dict) -> list[Found]:
    checked["transactions"] = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction).where(
        LedgerTransaction.effective_at >= start, LedgerTransaction.effective_at < end)) or 0
    rows = db.session.execute(
        sa.select(LedgerTransaction.idempotency_key, sa.func.sum(LedgerEntry.amount_fen))
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(LedgerTransaction.effective_at >= start, LedgerTransaction.effective_at < end)
        .group_by(LedgerTransaction.id, LedgerTransaction.idempotency_key)
        .having(sa.func.sum(LedgerEntry.amount_fen) != 0))
    return [Found(DifferenceKind.UNBALANCED_TRANSACTION, key, 0, int(total), _("分录借贷合计不为零"))
            for key, total in rows]


def _check_balances(checked: dict) -> list[Found]:
    sums = (sa.select(LedgerEntry.account_id, sa.func.sum(LedgerEntry.amount_fen).label("total"))
            .group_by(LedgerEntry.account_id).subquery())
    rows = list(db.session.execute(
        sa.select(LedgerAccount.code, LedgerAccount.balance_fen, sa.func.coalesce(sums.c.total, 0))
        .outerjoin(sums, sums.c.account_id == LedgerAccount.id).order_by(LedgerAccount.id)))
    checked["accounts"] = len(rows)
    return [Found(DifferenceKind.BALANCE_MISMATCH, code, int(total), int(balance),
                  _("缓存余额 %(b)d 分，明细合计 %(t)d 分", b=balance, t=total))
            for code, balance, total in rows if int(balance) != int(total)]


# --- a gateway's bill -----------------------------------------------------------------------------


def _check_bill(provider: str, rows: list[BillRow], paid_here: list[Payment]) -> list[Found]:
    payment_rows = [r for r in rows if r.kind == BillRowKind.PAYMENT]
    refund_rows = [r for r in rows if r.kind == BillRowKind.REFUND]
    payments: dict[str, Payment] = {}
    for chunk in _chunks({r.out_trade_no for r in payment_rows}):
        payments.update({p.out_trade_no: p for p in db.session.scalars(
            sa.select(Payment).where(Payment.out_trade_no.in_(chunk)))})
    wanted_refund_nos = {r.out_refund_no for r in refund_rows} | {
        duplicate_refund_no(r.transaction_id, r.out_trade_no) for r in payment_rows}
    refunds: dict[str, Refund] = {}
    for chunk in _chunks(wanted_refund_nos):
        refunds.update({r.out_refund_no: r for r in db.session.scalars(
            sa.select(Refund).where(Refund.out_refund_no.in_(chunk)))})
    found: list[Found] = []

    def add(kind, reference, expected, actual, detail):
        found.append(Found(kind, reference, expected, actual, detail, provider))

    for row in payment_rows:
        ours = payments.get(row.out_trade_no)
        if ours is None or ours.status != PaymentStatus.PAID:
            add(DifferenceKind.BILL_PAYMENT_UNKNOWN, row.out_trade_no, None, row.amount_fen,
                _("账单第 %(line)d 行：渠道交易号 %(txn)s", line=row.line, txn=row.transaction_id or "—"))
        elif ours.provider == provider and (ours.transaction_id or "") in ("", row.transaction_id):
            if row.amount_fen != ours.amount_fen:
                add(DifferenceKind.BILL_AMOUNT_MISMATCH, row.out_trade_no, ours.amount_fen, row.amount_fen,
                    _("账单第 %(line)d 行", line=row.line))
        else:  # another collection of a trade we had collected already
            refund = refunds.get(duplicate_refund_no(row.transaction_id, row.out_trade_no))
            if refund is None or refund.payment_id != ours.id or refund.amount_fen != row.amount_fen:
                add(DifferenceKind.BILL_DUPLICATE_UNRECORDED, row.out_trade_no, row.amount_fen,
                    refund.amount_fen if refund is not None else None,
                    _("账单第 %(line)d 行：渠道交易号 %(txn)s 是该单的第二笔收款", line=row.line,
                      txn=row.transaction_id or "—"))
    in_bill = {r.out_trade_no for r in payment_rows}
    for p in paid_here:
        if p.out_trade_no not in in_bill:
            add(DifferenceKind.PAYMENT_MISSING_FROM_BILL, p.out_trade_no, p.amount_fen, None,
                _("渠道交易号 %(txn)s", txn=p.transaction_id or "—"))
    for row in refund_rows:
        ours = refunds.get(row.out_refund_no)
        if ours is None or ours.provider != provider:
            add(DifferenceKind.BILL_REFUND_UNKNOWN, row.out_refund_no, None, row.amount_fen,
                _("账单第 %(line)d 行：商户订单号 %(no)s", line=row.line, no=row.out_trade_no))
        elif row.amount_fen != ours.amount_fen or (
                row.refund_status == "succeeded" and ours.status != RefundStatus.SUCCEEDED):
            add(DifferenceKind.BILL_REFUND_MISMATCH, row.out_refund_no, ours.amount_fen, row.amount_fen,
                _("账单第 %(line)d 行：渠道退款状态 %(bill)s，我方 %(ours)s", line=row.line,
                  bill=row.refund_status or "—", ours=ours.status))
    return found


# --- handling a difference ------------------------------------------------------------------------


def mark_handled(admin, difference_id: int, note: str) -> ReconciliationDifference:
    """Record that `admin` dealt with a difference, saying how. Forbidden without
    `finance.reconcile`; NotFound for no such difference; a note is required (at most
    NOTE_MAX characters); Conflict when it was handled already (two admins at once: one
    wins, by a conditional UPDATE). Audited. Flushes only."""
    if not can(admin, RECONCILE):
        raise Forbidden(_("没有权限执行此操作"))
    difference = db.session.get(ReconciliationDifference, int(difference_id))
    if difference is None:
        raise NotFound(_("差异记录不存在"), code=ReconciliationError.DIFFERENCE_NOT_FOUND)
    note = (note or "").strip()
    if not note or len(note) > NOTE_MAX:
        message = _("请填写处理说明") if not note else _("说明不能超过 %(n)d 个字", n=NOTE_MAX)
        raise ValidationError(message, code=ReconciliationError.NOTE_REQUIRED, fields={"note": message})
    moved = db.session.execute(
        sa.update(ReconciliationDifference).where(ReconciliationDifference.id == difference.id,
                                                  ReconciliationDifference.handled_at.is_(None))
        .values(handled_at=utcnow(), handled_by_id=admin.id, handled_note=note)
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise Conflict(_("该差异已被处理，请刷新"), code=ReconciliationError.ALREADY_HANDLED)
    audit.record(admin, HANDLE_AUDIT_ACTION, difference, {"handled": [False, True]}, note=note)
    db.session.refresh(difference)
    return difference
