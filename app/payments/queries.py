"""Payment reads worth naming: what the sweeps pick up and what the back office lists.
Lists load their orders in a fixed number of queries, newest first, paginated."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.core.clock import utcnow
from app.core.models import AuditLog
from app.core.pagination import Page, paginate
from app.extensions import db
from app.orders.models import Order
from app.payments import offline_refunds
from app.payments.models import Payment, PaymentNotification, Refund
from app.payments.states import PaymentStatus, RefundStatus

# --- for the sweeps ---------------------------------------------------------------------------


def unclosed_trades(older_than_seconds: int = 60, limit: int = 200) -> list[tuple[str, str]]:
    """(provider, out_trade_no) of payments closed here, not yet at their gateway, a
    minute after closing (their job had its chance). Payments made more than two days
    ago are left (the payment deadline is at most a day): by then the gateway has
    expired the trade itself."""
    now = utcnow()
    return [tuple(row) for row in db.session.execute(
        sa.select(Payment.provider, Payment.out_trade_no).where(
            Payment.status == PaymentStatus.CLOSED, Payment.created_at > now - timedelta(days=2),
            Payment.provider.is_not(None), Payment.gateway_closed_at.is_(None),
            Payment.closed_at <= now - timedelta(seconds=older_than_seconds))
        .order_by(Payment.id).limit(limit))]


def pending_refund_ids(limit: int = 200) -> list[int]:
    return list(db.session.scalars(sa.select(Refund.id).where(Refund.status == RefundStatus.PENDING)
                                   .order_by(Refund.id).limit(limit)))


def stale_pending_ids(older_than_minutes: int = 3, limit: int = 200) -> list[int]:
    """Pending payments a buyer started paying a while ago with no word from the gateway."""
    cutoff = utcnow() - timedelta(minutes=older_than_minutes)
    return list(db.session.scalars(
        sa.select(Payment.id).where(Payment.status == PaymentStatus.PENDING, Payment.provider.is_not(None),
                                    Payment.created_at <= cutoff,
                                    sa.or_(Payment.last_queried_at.is_(None), Payment.last_queried_at <= cutoff))
        .order_by(Payment.id).limit(limit)))


# --- for the back office ----------------------------------------------------------------------


def for_admin(q: str = "", status: str | None = None, page=1, per_page=30) -> Page:
    """Every payment, searchable by trade number, gateway transaction id or order number."""
    stmt = sa.select(Payment).options(selectinload(Payment.orders))
    if status:
        stmt = stmt.where(Payment.status == status)
    q = (q or "").strip()
    if q:
        stmt = stmt.where(sa.or_(Payment.out_trade_no == q, Payment.transaction_id == q,
                                 Payment.id.in_(sa.select(Order.payment_id).where(Order.order_no == q))))
    return paginate(stmt.order_by(Payment.created_at.desc(), Payment.id.desc()), page, per_page)


def detail_for_admin(out_trade_no: str) -> Payment | None:
    """One payment with its orders, their items and shops."""
    return db.session.scalar(sa.select(Payment).where(Payment.out_trade_no == out_trade_no)
                             .options(selectinload(Payment.orders).selectinload(Order.items),
                                      selectinload(Payment.orders).selectinload(Order.merchant)))


def refunds_of_payment(payment_id: int) -> list[Refund]:
    return list(db.session.scalars(sa.select(Refund).where(Refund.payment_id == payment_id).order_by(Refund.id)))


def refunds_of_order(order_id: int) -> list[Refund]:
    return list(db.session.scalars(sa.select(Refund).where(Refund.order_id == order_id).order_by(Refund.id)))


def offline_settlements(refund_ids: list[int]) -> dict[int, AuditLog]:
    """{refund id: the audit row of its offline settlement (who, when, the note)} for
    those of `refund_ids` an operator paid back outside the gateway; one query."""
    if not refund_ids:
        return {}
    rows = db.session.scalars(sa.select(AuditLog).where(
        AuditLog.action == offline_refunds.AUDIT_ACTION, AuditLog.target_type == Refund.__name__,
        AuditLog.target_id.in_([str(i) for i in refund_ids])).order_by(AuditLog.id))
    return {int(row.target_id): row for row in rows}


def notifications_for_admin(outcome: str | None = None, out_trade_no: str = "", page=1, per_page=30) -> Page:
    """The notification log, newest first, by outcome and trade number."""
    stmt = sa.select(PaymentNotification).order_by(PaymentNotification.received_at.desc(),
                                                   PaymentNotification.id.desc())
    if outcome:
        stmt = stmt.where(PaymentNotification.outcome == outcome)
    if out_trade_no:
        stmt = stmt.where(PaymentNotification.out_trade_no == out_trade_no)
    return paginate(stmt, page, per_page)


def notifications_of(payment: Payment) -> list[PaymentNotification]:
    """Every notification about `payment`, newest first, refused ones included.

    Verified rows carry the trade number; a refused (forged or malformed) one does not,
    because nothing in it is trusted, so those are found by the number in their raw
    body. Only rows received since the payment was created can mention it, which bounds
    the scan by time."""
    claimed = sa.and_(PaymentNotification.out_trade_no.is_(None), PaymentNotification.verified.is_(False),
                      PaymentNotification.received_at >= payment.created_at,
                      PaymentNotification.body.contains(payment.out_trade_no, autoescape=True))
    return list(db.session.scalars(
        sa.select(PaymentNotification).where(sa.or_(PaymentNotification.out_trade_no == payment.out_trade_no,
                                                    claimed))
        .order_by(PaymentNotification.received_at.desc(), PaymentNotification.id.desc())))
