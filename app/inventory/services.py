"""The stock service. Every change of available stock goes through here.

Guarantees:
- Stock changes only by conditional UPDATE (`stock = stock - n WHERE stock >= n`),
  the same SQL on SQLite and PostgreSQL, with `CHECK (stock >= 0)` as backstop:
  two buyers can never both take the last unit.
- Several SKUs are changed in ascending id order, so concurrent orders lock rows
  in the same order and cannot deadlock.
- A reservation of several SKUs is all or nothing: when any is short, `OutOfStock`
  names every short SKU and the caller's transaction rolls back the rest.
- Every change writes a `StockMovement` (delta, reason, reference, stock after).
- Crossing below a SKU's threshold arms one low-stock alert (sent after commit);
  it re-arms only once stock is back at or above the threshold.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from app.catalog.models import Sku
from app.core import page_cache
from app.core.bounds import MAX_INT
from app.core.errors import Conflict, ValidationError
from app.extensions import db
from app.inventory import alerts
from app.inventory.errors import StockError
from app.inventory.models import StockMovement
from app.inventory.states import MovementReason


@dataclass(frozen=True)
class Shortfall:
    sku_id: int
    wanted: int
    available: int


class OutOfStock(Conflict):
    code = StockError.OUT_OF_STOCK

    def __init__(self, shortfalls: list[Shortfall]):
        self.shortfalls = shortfalls
        super().__init__(_("库存不足"), code=StockError.OUT_OF_STOCK,
                         fields={str(s.sku_id): _("仅剩 %(n)d 件", n=s.available) for s in shortfalls})


def _merge(items: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sum quantities per SKU and sort by SKU id (the lock order)."""
    totals: dict[int, int] = {}
    for sku_id, quantity in items:
        if int(quantity) <= 0:
            raise ValidationError(_("数量必须大于 0"), code=StockError.INVALID_QUANTITY)
        totals[int(sku_id)] = totals.get(int(sku_id), 0) + int(quantity)
    return sorted(totals.items())


def _record(sku_id: int, delta: int, stock_after: int, reason: str, ref: tuple[str, str] | None,
            actor_id: int | None, note: str | None) -> None:
    db.session.add(StockMovement(
        sku_id=sku_id, delta=delta, stock_after=stock_after, reason=reason,
        ref_type=ref[0] if ref else None, ref_id=str(ref[1]) if ref else None, actor_id=actor_id, note=note,
    ))


def _take(sku_id: int, quantity: int) -> int | None:
    """stock -= quantity if enough; the new stock, or None when short."""
    return db.session.execute(
        sa.update(Sku).where(Sku.id == sku_id, Sku.stock >= quantity)
        .values(stock=Sku.stock - quantity).returning(Sku.stock)
    ).scalar()


def _give(sku_id: int, quantity: int) -> int:
    # Guarded like _take: the stock column is an `integer`, so the sum must stay within it.
    stock = db.session.execute(
        sa.update(Sku).where(Sku.id == sku_id, Sku.stock <= MAX_INT - quantity)
        .values(stock=Sku.stock + quantity).returning(Sku.stock)
    ).scalar()
    if stock is None:
        if db.session.get(Sku, sku_id) is None:
            raise ValidationError(_("规格不存在"), code=StockError.SKU_NOT_FOUND)
        raise _too_much_stock("adjust")
    return stock


def _sold_out_changed(sku_ids: Iterable[int]) -> None:
    """SKUs that just ran out or came back: their products' pages and the lists showing
    them change (已售罄, the buy buttons). Other stock changes do not invalidate the
    storefront's cache, so a sale does not empty it; the counts shown there may lag by
    the cache's timeout, and every order takes stock by the guarded UPDATE above anyway."""
    ids = sorted(set(sku_ids))
    if ids:
        page_cache.product_changed(*db.session.scalars(sa.select(Sku.product_id).where(Sku.id.in_(ids))))


def _too_much_stock(field: str) -> ValidationError:
    message = _("库存不能超过 %(n)d", n=MAX_INT)
    return ValidationError(message, code=StockError.INVALID_STOCK, fields={field: message})


def take(items: Iterable[tuple[int, int]], reason: str, ref: tuple[str, str] | None = None,
         actor_id: int | None = None) -> dict[int, int]:
    """Take stock from several SKUs at once (reserve on order, deduct on payment).
    Returns {sku_id: stock after}; raises OutOfStock naming every short SKU."""
    merged = _merge(items)
    after: dict[int, int] = {}
    short: list[Shortfall] = []
    for sku_id, quantity in merged:
        stock = _take(sku_id, quantity)
        if stock is None:
            available = db.session.scalar(sa.select(Sku.stock).where(Sku.id == sku_id))
            short.append(Shortfall(sku_id, quantity, available or 0))
            continue
        after[sku_id] = stock
    if short:
        raise OutOfStock(short)
    for sku_id, quantity in merged:
        _record(sku_id, -quantity, after[sku_id], reason, ref, actor_id, None)
    _sold_out_changed(sku_id for sku_id, stock in after.items() if stock == 0)
    _check_thresholds(after)
    db.session.flush()
    return after


def reserve(items: Iterable[tuple[int, int]], ref: tuple[str, str] | None = None) -> dict[int, int]:
    return take(items, MovementReason.ORDER_RESERVE, ref)


def deduct(items: Iterable[tuple[int, int]], ref: tuple[str, str] | None = None) -> dict[int, int]:
    return take(items, MovementReason.PAYMENT_DEDUCT, ref)


def give_back(items: Iterable[tuple[int, int]], reason: str, ref: tuple[str, str] | None = None,
              actor_id: int | None = None) -> dict[int, int]:
    """Put stock back (release a reservation, restock a return)."""
    after: dict[int, int] = {}
    back_in_stock = []
    for sku_id, quantity in _merge(items):
        after[sku_id] = _give(sku_id, quantity)
        if after[sku_id] == quantity:
            back_in_stock.append(sku_id)
        _record(sku_id, quantity, after[sku_id], reason, ref, actor_id, None)
    _sold_out_changed(back_in_stock)
    _check_thresholds(after)
    db.session.flush()
    return after


def release(items: Iterable[tuple[int, int]], ref: tuple[str, str] | None = None) -> dict[int, int]:
    return give_back(items, MovementReason.ORDER_RELEASE, ref)


def restock(items: Iterable[tuple[int, int]], ref: tuple[str, str] | None = None) -> dict[int, int]:
    return give_back(items, MovementReason.RETURN_RESTOCK, ref)


def adjust(sku_id: int, delta: int, actor_id: int | None, note: str | None,
           reason: str = MovementReason.MANUAL) -> int:
    """Add or remove stock by hand or from an ERP; never below zero."""
    delta = int(delta)
    if abs(delta) > MAX_INT:
        raise _too_much_stock("adjust")
    if delta == 0:
        raise ValidationError(_("调整数量不能为 0"), code=StockError.INVALID_QUANTITY,
                              fields={"adjust": _("调整数量不能为 0")})
    if delta > 0:
        stock = _give(sku_id, delta)
    else:
        stock = _take(sku_id, -delta)
        if stock is None:
            available = db.session.scalar(sa.select(Sku.stock).where(Sku.id == sku_id)) or 0
            raise OutOfStock([Shortfall(sku_id, -delta, available)])
    _record(sku_id, delta, stock, reason, None, actor_id, (note or "").strip()[:200] or None)
    if stock == 0 or stock == delta:  # ran out, or was out
        _sold_out_changed([sku_id])
    _check_thresholds({sku_id: stock})
    db.session.flush()
    return stock


def set_stock(sku_id: int, target: int, actor_id: int | None, note: str | None,
              reason: str = MovementReason.MANUAL, expected: int | None = None) -> int:
    """Set stock to `target` (a stocktake or an ERP sync), written as the difference.

    Reads the current stock with the row locked (FOR UPDATE on PostgreSQL), so a sale
    between the read and the write is not lost. With `expected`, refuses when the
    stock is no longer what the editor saw (Conflict), instead of overwriting a sale.
    """
    target = int(target)
    if target < 0:
        raise ValidationError(_("库存不能小于 0"), code=StockError.INVALID_STOCK, fields={"set": _("库存不能小于 0")})
    if target > MAX_INT:
        raise _too_much_stock("set")
    current = db.session.scalar(sa.select(Sku.stock).where(Sku.id == sku_id).with_for_update())
    if current is None:
        raise ValidationError(_("规格不存在"), code=StockError.SKU_NOT_FOUND)
    if expected is not None and current != expected:
        raise Conflict(_("库存已变化（现为 %(n)d），请刷新后重试", n=current), code=StockError.STOCK_CHANGED)
    if current == target:
        return current
    db.session.execute(sa.update(Sku).where(Sku.id == sku_id).values(stock=target))
    _record(sku_id, target - current, target, reason, None, actor_id, (note or "").strip()[:200] or None)
    if 0 in (current, target):
        _sold_out_changed([sku_id])
    _check_thresholds({sku_id: target})
    db.session.flush()
    return target


def initial_stock(sku_id: int, stock: int, actor_id: int | None) -> None:
    """The first movement of a new SKU (its stock was inserted with the row); a SKU
    that starts below its threshold alerts at once, like any other dip."""
    _record(sku_id, stock, stock, MovementReason.INITIAL, None, actor_id, None)
    _check_thresholds({sku_id: stock})


def _check_thresholds(after: dict[int, int]) -> None:
    """Arm an alert for SKUs that fell below their threshold; re-arm the ones back above."""
    if not after:
        return
    ids = list(after)
    fell = db.session.execute(
        sa.update(Sku).where(Sku.id.in_(ids), Sku.stock < Sku.low_stock_threshold, Sku.low_stock_alerted.is_(False))
        .values(low_stock_alerted=True).returning(Sku.id)
    ).scalars().all()
    db.session.execute(
        sa.update(Sku).where(Sku.id.in_(ids), Sku.stock >= Sku.low_stock_threshold, Sku.low_stock_alerted.is_(True))
        .values(low_stock_alerted=False)
    )
    for sku_id in fell:
        alerts.open_alert(sku_id)
