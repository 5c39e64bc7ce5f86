"""Commissions: made when an order is paid, settled after receipt, voided by refunds.

Guarantees:
- Made once per order item and level (a unique key), from the order's own chain
  and rules version, so a replayed payment or a rule change never changes them.
- The base is the item's paid amount without shipping; the rate is the product's
  override within the platform's caps, else the level's rate; amounts come from
  `app.core.money.apply_rate` (half up), the one rounding rule.
- A distributor who is not active when the order is paid gets nothing for that
  level, and the level is not passed upward.
- Settlement and voiding are acts of COMMISSION_LIFECYCLE (states.py, which says
  when a commission settles) made by `app.core.lifecycle.move`; every commission
  and every change is a ledger entry.
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app.catalog.models import Product
from app.core.clock import utcnow
from app.core.lifecycle import move, try_move
from app.core.money import apply_rate, fen_to_yuan, prorate
from app.distribution import distributors
from app.distribution import rules as distribution_rules
from app.distribution.models import Commission, Distributor, DistributorLedgerEntry
from app.distribution.signals import commission_clawed_back, commission_made, commission_settled, commission_voided
from app.distribution.states import COMMISSION_LIFECYCLE, CommissionStatus, DistributorStatus, LedgerKind
from app.extensions import db
from app.notifications import services as notifications
from app.orders.models import Order, OrderItem


def rate_for(product: Product, level: int, rules) -> int:
    """The rate of `level` for `product`: its own override (capped by the platform's
    rate sum) or the rules' rate; 0 when the product does not take part."""
    if not product.distribution_enabled or level > rules.levels:
        return 0
    # An override saved within the cap can exceed it later (the platform's rates or cap
    # changed since): lower levels keep their rate, higher ones get what room is left.
    room = distribution_rules.max_total_bp()
    rate = 0
    for n in range(1, level + 1):
        override = getattr(product, f"commission_l{n}_bp")
        rate = min(rules.rate_bp(n) if override is None else max(0, int(override)), room)
        room -= rate
    return rate


def share_earning_fen(user_id: int | None, product: Product, price_fen: int) -> int | None:
    """What an active distributor earns at level 1 when a friend buys one of
    `product` at `price_fen` through their link (the product page's 分享赚);
    None for everyone else, or when the product or distribution does not take part."""
    if not user_id:
        return None
    rules = distribution_rules.current()
    distributor = distributors.for_user(user_id) if rules.enabled else None
    if distributor is None or distributor.status != DistributorStatus.ACTIVE:
        return None
    amount = apply_rate(price_fen, rate_for(product, 1, rules))
    return amount or None


def check_overrides(levels: dict[int, int | None]) -> dict[str, str]:
    """Errors for a merchant's per-level overrides (None = the platform's rate)."""
    rules = distribution_rules.current()
    errors: dict[str, str] = {}
    total = 0
    for level, bp in levels.items():
        if bp is None:
            bp = rules.rate_bp(level)
        elif not 0 <= bp <= 10_000:
            errors[f"commission_l{level}"] = _("请输入 0 到 100 之间的百分比")
        if level <= rules.levels:
            total += bp
    if total > distribution_rules.max_total_bp():
        errors["commission_l1"] = _("各级佣金比例合计不能超过 %(cap)s%%", cap=f"{distribution_rules.max_total_bp() / 100:g}")
    return errors


def create_for_order(order: Order) -> list[Commission]:
    """The order was just paid: make its commissions (idempotent) and tell the earners."""
    snapshot = order.referral_snapshot or {}
    chain = snapshot.get("chain") if isinstance(snapshot, dict) else None
    if not chain or not any(chain):
        return []
    rules = distribution_rules.version(snapshot.get("rules_version"))
    existing = set(db.session.execute(sa.select(Commission.order_item_id, Commission.level)
                                      .where(Commission.order_id == order.id)).all())
    ids = [d for d in chain if d]
    earners = {d.id: d for d in db.session.scalars(sa.select(Distributor).where(Distributor.id.in_(ids)))}
    products = {p.id: p for p in db.session.scalars(sa.select(Product).where(
        Product.id.in_([i.product_id for i in order.items])))}
    made: list[Commission] = []
    for item in order.items:
        product = products[item.product_id]
        for level, distributor_id in enumerate(chain[:rules.levels], start=1):
            earner = earners.get(distributor_id)
            if earner is None or earner.status != DistributorStatus.ACTIVE or (item.id, level) in existing:
                continue
            rate = rate_for(product, level, rules)
            amount = apply_rate(item.paid_fen, rate)
            if amount <= 0:
                continue
            commission = Commission(order_id=order.id, order_item_id=item.id, buyer_id=order.buyer_id, level=level,
                                    distributor_id=earner.id, rules_version=rules.id, base_fen=item.paid_fen,
                                    rate_bp=rate, amount_fen=amount)
            db.session.add(commission)
            db.session.flush()
            _ledger(earner.id, LedgerKind.COMMISSION_PENDING, amount, commission_id=commission.id,
                    note=order.order_no)
            commission_made.send(commission, amount_fen=amount)
            made.append(commission)
    for earner_id in {c.distributor_id for c in made}:
        total = sum(c.amount_fen for c in made if c.distributor_id == earner_id)
        notifications.notify(earners[earner_id].user_id, _("新的待结算佣金"),
                             _("订单 %(no)s 为您带来 ¥%(yuan)s 待结算佣金，确认收货后按规则结算。", no=order.order_no,
                               yuan=fen_to_yuan(total)), link="/distributor/commissions", kind="distribution")
    return made


def _ledger(distributor_id: int, kind: LedgerKind, amount_fen: int, commission_id: int | None = None,
            withdrawal_id: int | None = None, note: str | None = None) -> None:
    db.session.add(DistributorLedgerEntry(distributor_id=distributor_id, kind=kind, amount_fen=amount_fen,
                               commission_id=commission_id, withdrawal_id=withdrawal_id, note=note))


def start_settlement(order: Order) -> None:
    """The order was received: its pending commissions settle after the delay of the
    rules they were made under."""
    commissions = db.session.scalars(sa.select(Commission).where(Commission.order_id == order.id,
                                                                 Commission.status == CommissionStatus.PENDING)).all()
    for commission in commissions:
        rules = distribution_rules.version(commission.rules_version)
        commission.settle_after = (order.received_at or utcnow()) + timedelta(days=rules.settlement_delay_days)
    db.session.flush()


def due_ids(limit: int = 500) -> list[int]:
    return list(db.session.scalars(sa.select(Commission.id).where(
        Commission.status == CommissionStatus.PENDING, Commission.settle_after <= utcnow())
        .order_by(Commission.settle_after).limit(limit)))


def settle(commission_id: int) -> bool:
    """Settle one due commission unless its item has a refund open; False when not due."""
    commission = db.session.get(Commission, commission_id)
    if (commission is None or commission.status != CommissionStatus.PENDING or commission.settle_after is None
            or commission.settle_after > utcnow() or _refund_open(commission.order_item_id)):
        return False
    if not try_move(COMMISSION_LIFECYCLE, Commission, commission.id, "settle", values={"settled_at": utcnow()}):
        return False
    _ledger(commission.distributor_id, LedgerKind.COMMISSION_SETTLED, commission.payable_fen,
            commission_id=commission.id)
    commission_settled.send(commission, amount_fen=commission.payable_fen)
    return True


def _refund_open(order_item_id: int) -> bool:
    """Whether an after-sale request holds this item: its commission waits until it ends."""
    return db.session.scalar(sa.select(OrderItem.open_aftersale_id).where(OrderItem.id == order_item_id)) is not None


def on_item_refunded(order_item_id: int, refunded_quantity: int, quantity: int) -> None:
    """`refunded_quantity` of the item's `quantity` units have now gone back to the buyer
    (in all, not just this time): each of its commissions is worth that share less.

    - Pending: `void_fen` rises to the refunded share (the whole amount when the whole
      item went back, and the commission is then void).
    - Settled: the same share is taken back (a `commission_clawback` ledger entry). The
      distributor's available balance is a sum over the records, so it falls by that
      much; when the money was withdrawn already it goes below zero, a debt that the
      next settled commissions pay first. Nothing is capped: money is never lost.
    Guarded on the amount read, so two refunds racing cannot both take the same delta."""
    commissions = db.session.scalars(sa.select(Commission).where(
        Commission.order_item_id == order_item_id,
        Commission.status.in_((CommissionStatus.PENDING, CommissionStatus.SETTLED)))).all()
    for commission in commissions:
        target = commission.amount_fen if refunded_quantity >= quantity else prorate(
            commission.amount_fen, refunded_quantity, quantity)
        delta = target - commission.void_fen
        if delta <= 0:
            continue
        # Guarded on the amount read, so two refunds racing cannot both take the same delta back.
        moved = db.session.execute(
            sa.update(Commission).where(Commission.id == commission.id, Commission.status == commission.status,
                                        Commission.void_fen == commission.void_fen)
            .values(void_fen=target).execution_options(synchronize_session=False)).rowcount
        if not moved:
            continue
        if commission.status == CommissionStatus.SETTLED:
            _ledger(commission.distributor_id, LedgerKind.COMMISSION_CLAWBACK, -delta, commission_id=commission.id)
            commission_clawed_back.send(commission, amount_fen=delta, void_fen=target)
            notifications.notify(
                db.session.scalar(sa.select(Distributor.user_id).where(Distributor.id == commission.distributor_id)),
                _("佣金已扣回"), _("买家退款，已结算佣金 ¥%(yuan)s 从您的余额中扣回。", yuan=fen_to_yuan(delta)),
                link="/distributor/commissions", kind="distribution")
            continue
        if target >= commission.amount_fen:  # all of it went back: the commission is void
            move(COMMISSION_LIFECYCLE, Commission, commission.id, "void")
        _ledger(commission.distributor_id, LedgerKind.COMMISSION_VOID, -delta, commission_id=commission.id)
        commission_voided.send(commission, amount_fen=delta, void_fen=target)
    db.session.expire_all()


def on_paid(order: Order) -> None:
    """The hook orders call when an order is paid."""
    create_for_order(order)
    distributors.on_paid(order.buyer_id)
