"""Flash-sale events: make, edit, review, schedule, end and cancel them, and give a
cancelled order's units back.

Guarantees:
- Input is checked whole before anything is written, each problem named by field
  (`title`, `starts_at`, `items.0.price_fen`...): event price below the SKU's price,
  event stock within the SKU's stock now, 1 <= limit <= stock, end after start and in
  the future, at most MAX_DAYS long, a SKU in at most one event at a time.
- Scheduling (approve, publish) carves the event stock out of the SKUs through the
  stock service in one ascending pass (`flash_sale_hold`, ref ("flash_sale", id)): all
  or nothing, OutOfStock naming every short SKU. The status move is guarded, so it
  happens once.
- When a scheduled event ends or is cancelled, each item's unsold units go back to its
  SKU once: the item's `released_units` is set by a guarded UPDATE that also reads what
  is left, in the same statement that a winner's take (buying.py) would have to pass.
- An unpaid flash order that is cancelled gives its units back to the item once
  (`FlashSaleOrder.returned_at`, guarded): to the event while it still holds stock,
  else to the SKU's shelf. Redis is told after the commit (redis_sync.give_back),
  once per order (a marker), and the minute sweep rebuilds it from here anyway.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from app.catalog.models import Sku
from app.catalog.states import ProductStatus
from app.core import page_cache
from app.core.bounds import MAX_INT, to_int
from app.core.clock import as_utc, utcnow
from app.core.errors import Conflict, NotFound, ValidationError
from app.core.jobs import enqueue_after_commit, schedule_after_commit
from app.core.lifecycle import move
from app.core.money import fen_to_yuan
from app.extensions import db
from app.flashsales import policies, redis_sync
from app.flashsales.errors import FlashSaleError
from app.flashsales.models import FlashSale, FlashSaleBuyer, FlashSaleItem, FlashSaleOrder
from app.flashsales.states import (
    EDITABLE,
    FLASH_SALE_LIFECYCLE,
    MAX_DAYS,
    MAX_ITEMS,
    MAX_LIMIT,
    TITLE_MAX,
    FlashSaleStatus,
)
from app.inventory import services as stock
from app.inventory.states import MovementReason

REASON_MAX = 200


# --- input -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemInput:
    sku_id: int
    price_fen: int
    stock: int
    per_buyer_limit: int


@dataclass(frozen=True)
class EventInput:
    title: str
    starts_at: datetime
    ends_at: datetime
    items: list[ItemInput]


def clean(raw: dict, merchant_id: int | None, sale_id: int | None = None) -> EventInput:
    """An EventInput from `raw` ({title, starts_at, ends_at (aware datetimes or None),
    items: [{sku_id, price_fen, stock, per_buyer_limit}] with ints or text}), or one
    ValidationError naming every bad field. `merchant_id`: the SKUs must be that shop's
    (None: the platform may pick any shop's on-sale SKUs)."""
    errors: dict[str, str] = {}
    title = str(raw.get("title") or "").strip()
    if not title:
        errors["title"] = _("请填写活动名称")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("活动名称最多 %(n)d 字", n=TITLE_MAX)
    starts_at, ends_at = raw.get("starts_at"), raw.get("ends_at")
    if not isinstance(starts_at, datetime):
        errors["starts_at"] = _("请选择开始时间")
    if not isinstance(ends_at, datetime):
        errors["ends_at"] = _("请选择结束时间")
    if isinstance(starts_at, datetime) and isinstance(ends_at, datetime):
        starts_at, ends_at = as_utc(starts_at), as_utc(ends_at)
        if ends_at <= starts_at:
            errors["ends_at"] = _("结束时间必须晚于开始时间")
        elif ends_at <= utcnow():
            errors["ends_at"] = _("结束时间必须晚于现在")
        elif ends_at - starts_at > timedelta(days=MAX_DAYS):
            errors["ends_at"] = _("活动最长 %(n)d 天", n=MAX_DAYS)
    raw_items = raw.get("items") or []
    if not isinstance(raw_items, list) or not raw_items:
        errors["items"] = _("请至少选择一个商品规格")
        raw_items = []
    elif len(raw_items) > MAX_ITEMS:
        errors["items"] = _("一个活动最多 %(n)d 个商品规格", n=MAX_ITEMS)
        raw_items = []
    ids = [to_int(r.get("sku_id") if isinstance(r, dict) else None, 1) for r in raw_items]
    skus = _skus([i for i in ids if i is not None])
    items: list[ItemInput] = []
    seen: set[int] = set()
    for n, (row, sku_id) in enumerate(zip(raw_items, ids, strict=True)):
        row = row if isinstance(row, dict) else {}
        field = f"items.{n}"
        sku = skus.get(sku_id) if sku_id is not None else None
        if sku is None or not sku.active or sku.product.status != ProductStatus.ON_SALE or (
                merchant_id is not None and sku.product.merchant_id != merchant_id):
            errors[f"{field}.sku_id"] = _("请选择在售的商品规格")
            continue
        if sku_id in seen:
            errors[f"{field}.sku_id"] = _("同一规格只能添加一次")
            continue
        seen.add(sku_id)
        price = to_int(row.get("price_fen"), 1, MAX_INT)
        if price is None:
            errors[f"{field}.price_fen"] = _("请填写大于 0 的秒杀价")
        elif price >= sku.price_fen:
            errors[f"{field}.price_fen"] = _("秒杀价必须低于原价 ¥%(yuan)s", yuan=fen_to_yuan(sku.price_fen))
        units = to_int(row.get("stock"), 1, MAX_INT)
        if units is None:
            errors[f"{field}.stock"] = _("请填写大于 0 的活动库存")
        elif units > sku.stock:
            errors[f"{field}.stock"] = _("活动库存不能超过现有库存 %(n)d", n=sku.stock)
        limit = to_int(row.get("per_buyer_limit"), 1, MAX_LIMIT)
        if limit is None:
            errors[f"{field}.per_buyer_limit"] = _("每人限购为 1 到 %(n)d 件", n=MAX_LIMIT)
        elif units is not None and limit > units:
            errors[f"{field}.per_buyer_limit"] = _("每人限购不能超过活动库存")
        if price is not None and units is not None and limit is not None and f"{field}.price_fen" not in errors \
                and f"{field}.stock" not in errors and f"{field}.per_buyer_limit" not in errors:
            items.append(ItemInput(sku_id, price, units, limit))
    if not errors and isinstance(starts_at, datetime):
        clash = _clashing_skus(seen, starts_at, ends_at, sale_id)
        for n, sku_id in enumerate(ids):
            if sku_id in clash:
                errors[f"items.{n}.sku_id"] = _("该规格在同一时段已有其他秒杀活动")
    if errors:
        raise ValidationError(_("请检查标出的内容"), code=FlashSaleError.INVALID, fields=errors)
    return EventInput(title, starts_at, ends_at, items)


def _skus(ids: list[int]) -> dict[int, Sku]:
    if not ids:
        return {}
    return {s.id: s for s in db.session.scalars(sa.select(Sku).where(Sku.id.in_(ids))
                                                  .options(selectinload(Sku.product)))}


def _clashing_skus(sku_ids: set[int], starts_at: datetime, ends_at: datetime, sale_id: int | None) -> set[int]:
    """SKUs of `sku_ids` in another event, not over, whose window overlaps."""
    if not sku_ids:
        return set()
    live = (FlashSaleStatus.PENDING_REVIEW, FlashSaleStatus.SCHEDULED)
    stmt = (sa.select(FlashSaleItem.sku_id).join(FlashSale)
            .where(FlashSaleItem.sku_id.in_(sku_ids), FlashSale.status.in_(live),
                   FlashSale.starts_at < ends_at, FlashSale.ends_at > starts_at))
    if sale_id is not None:
        stmt = stmt.where(FlashSale.id != sale_id)
    return set(db.session.scalars(stmt))


# --- loading -----------------------------------------------------------------------------------


def get(sale_id: int, actor: policies.Actor) -> FlashSale:
    """The event as `actor` may see it: a shop only its own, the platform any."""
    sale = db.session.scalar(sa.select(FlashSale).where(FlashSale.id == sale_id)
                             .options(selectinload(FlashSale.items)))
    if sale is None or (actor.merchant_id is not None and sale.merchant_id != actor.merchant_id) or (
            actor.merchant_id is None and not policies.is_platform(actor)):
        raise NotFound(_("活动不存在"), code=FlashSaleError.NOT_FOUND)
    return sale


# --- making and editing ------------------------------------------------------------------------


def create(actor: policies.Actor, raw: dict) -> FlashSale:
    """A draft event for the actor's shop (or the platform's, for a platform actor)."""
    if actor.merchant_id is None and not policies.is_platform(actor):
        raise NotFound(_("活动不存在"), code=FlashSaleError.NOT_FOUND)
    data = clean(raw, actor.merchant_id)
    sale = FlashSale(title=data.title, merchant_id=actor.merchant_id, starts_at=data.starts_at, ends_at=data.ends_at,
                     status=FlashSaleStatus.DRAFT, created_by_id=actor.user_id)
    db.session.add(sale)
    _set_items(sale, data.items)
    db.session.flush()
    return sale


def update(actor: policies.Actor, sale_id: int, raw: dict) -> FlashSale:
    sale = policies.require(get(sale_id, actor), actor, "edit")
    data = clean(raw, sale.merchant_id, sale.id)
    moved = db.session.execute(
        sa.update(FlashSale).where(FlashSale.id == sale.id, FlashSale.status.in_(EDITABLE))
        .values(title=data.title, starts_at=data.starts_at, ends_at=data.ends_at, updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise Conflict(_("活动状态已变化，不能再修改"), code=FlashSaleError.NOT_EDITABLE)
    db.session.expire(sale)
    sale.items.clear()
    db.session.flush()
    _set_items(sale, data.items)
    db.session.flush()
    return sale


def _set_items(sale: FlashSale, items: list[ItemInput]) -> None:
    skus = _skus([i.sku_id for i in items])
    for i in items:
        sale.items.append(FlashSaleItem(sku_id=i.sku_id, product_id=skus[i.sku_id].product_id, price_fen=i.price_fen,
                                        stock_total=i.stock, per_buyer_limit=i.per_buyer_limit))


# --- review and scheduling ---------------------------------------------------------------------


def submit(actor: policies.Actor, sale_id: int) -> FlashSale:
    sale = policies.require(get(sale_id, actor), actor, "submit")
    move(FLASH_SALE_LIFECYCLE, FlashSale, sale.id, "submit", actor_id=actor.user_id, note=_("商家提交审核"))
    return db.session.get(FlashSale, sale.id)


def approve(actor: policies.Actor, sale_id: int) -> FlashSale:
    """The platform approves a shop's request: scheduled, its stock carved out."""
    return _schedule(policies.require(get(sale_id, actor), actor, "approve"), actor, "approve", _("平台审核通过"))


def publish(actor: policies.Actor, sale_id: int) -> FlashSale:
    """The platform schedules its own event."""
    return _schedule(policies.require(get(sale_id, actor), actor, "publish"), actor, "publish", _("平台发布"))


def _schedule(sale: FlashSale, actor: policies.Actor, act_name: str, note: str) -> FlashSale:
    if sale.ends_at <= utcnow():
        raise ValidationError(_("活动结束时间已过，请修改后再提交"), code=FlashSaleError.INVALID,
                              fields={"ends_at": _("结束时间必须晚于现在")})
    clash = _clashing_skus({i.sku_id for i in sale.items}, sale.starts_at, sale.ends_at, sale.id)
    if clash:
        raise Conflict(_("部分规格在同一时段已有其他秒杀活动"), code=FlashSaleError.SKU_TAKEN,
                       fields={str(s): _("该规格在同一时段已有其他秒杀活动") for s in clash})
    move(FLASH_SALE_LIFECYCLE, FlashSale, sale.id, act_name, actor_id=actor.user_id, note=note,
         values={"reviewed_by_id": actor.user_id})
    items = list(db.session.scalars(sa.select(FlashSaleItem).where(FlashSaleItem.flash_sale_id == sale.id)))
    # Once: only the caller whose status move won gets here, and `held` is guarded too.
    stock.take([(i.sku_id, i.stock_total) for i in items], MovementReason.FLASH_SALE_HOLD,
               ref=("flash_sale", str(sale.id)), actor_id=actor.user_id)
    db.session.execute(sa.update(FlashSaleItem).where(FlashSaleItem.flash_sale_id == sale.id,
                                                      FlashSaleItem.held.is_(False))
                       .values(held=True).execution_options(synchronize_session=False))
    sale = db.session.get(FlashSale, sale.id)
    _after_change(sale)
    return sale


def reject(actor: policies.Actor, sale_id: int, reason: str) -> FlashSale:
    sale = policies.require(get(sale_id, actor), actor, "reject")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("请填写驳回原因"), code=FlashSaleError.INVALID, fields={"reason": _("请填写驳回原因")})
    if len(reason) > REASON_MAX:
        raise ValidationError(_("驳回原因最多 %(n)d 字", n=REASON_MAX), code=FlashSaleError.INVALID,
                              fields={"reason": _("驳回原因最多 %(n)d 字", n=REASON_MAX)})
    move(FLASH_SALE_LIFECYCLE, FlashSale, sale.id, "reject", actor_id=actor.user_id, note=reason,
         values={"reviewed_by_id": actor.user_id, "reject_reason": reason})
    return db.session.get(FlashSale, sale.id)


def cancel(actor: policies.Actor, sale_id: int) -> FlashSale:
    """Cancel an event not over yet; a scheduled one gives its unsold stock back."""
    sale = policies.require(get(sale_id, actor), actor, "cancel")
    was = move(FLASH_SALE_LIFECYCLE, FlashSale, sale.id, "cancel", actor_id=actor.user_id, note=_("活动取消"))
    if was == FlashSaleStatus.SCHEDULED:
        _release(sale.id)
        _after_change(db.session.get(FlashSale, sale.id))
    return db.session.get(FlashSale, sale.id)


def end_if_due(sale_id: int) -> bool:
    """Job and sweep: end a scheduled event whose time is up and give back its unsold stock."""
    sale = db.session.get(FlashSale, sale_id)
    if sale is None or sale.status != FlashSaleStatus.SCHEDULED or sale.ends_at > utcnow():
        return False
    move(FLASH_SALE_LIFECYCLE, FlashSale, sale.id, "end", note=_("活动结束"))
    _release(sale.id)
    _after_change(db.session.get(FlashSale, sale.id))
    return True


def ended_due_ids(limit: int = 200) -> list[int]:
    return list(db.session.scalars(sa.select(FlashSale.id).where(
        FlashSale.status == FlashSaleStatus.SCHEDULED, FlashSale.ends_at <= utcnow())
        .order_by(FlashSale.ends_at).limit(limit)))


def _release(sale_id: int) -> dict[int, int]:
    """Give each held item's unsold units back to its SKU, once per item: the guarded
    UPDATE records (and reads) what was left in one statement."""
    rows = db.session.execute(
        sa.update(FlashSaleItem)
        .where(FlashSaleItem.flash_sale_id == sale_id, FlashSaleItem.held.is_(True),
               FlashSaleItem.released_units.is_(None))
        .values(released_units=FlashSaleItem.stock_total - FlashSaleItem.stock_sold)
        .returning(FlashSaleItem.sku_id, FlashSaleItem.released_units)
        .execution_options(synchronize_session=False)).all()
    back = [(sku_id, units) for sku_id, units in rows if units > 0]
    if back:
        stock.give_back(back, MovementReason.FLASH_SALE_RELEASE, ref=("flash_sale", str(sale_id)))
    return dict(back)


def _after_change(sale: FlashSale) -> None:
    """After the commit: Redis rewritten from these rows; a scheduled event also gets its
    start (rebuild at the start) and its end."""
    enqueue_after_commit(redis_sync.rebuild_sale, sale.id, queue="high")
    # Scheduled, cancelled or ended: the home strip and the items' product pages change
    # (starting and ending on time need no call: the cached blocks expire then).
    page_cache.product_changed(*(item.product_id for item in sale.items))
    if sale.status == FlashSaleStatus.SCHEDULED:
        if sale.starts_at > utcnow():
            schedule_after_commit(redis_sync.rebuild_sale, sale.id, at=sale.starts_at, queue="high")
        schedule_after_commit(end_if_due, sale.id, at=sale.ends_at + timedelta(seconds=1), queue="high")


# --- a cancelled order's units -----------------------------------------------------------------


def give_back_for_cancelled(order_id: int) -> int:
    """An unpaid order holding flash-sale units was cancelled: its units go back to the
    item (the event), once; to the SKU's shelf instead when the event is over and has
    given its stock back already. Returns the units given back (0: none, or done before)."""
    row = db.session.execute(
        sa.update(FlashSaleOrder).where(FlashSaleOrder.order_id == order_id, FlashSaleOrder.returned_at.is_(None))
        .values(returned_at=utcnow())
        .returning(FlashSaleOrder.item_id, FlashSaleOrder.buyer_id, FlashSaleOrder.quantity)
        .execution_options(synchronize_session=False)).first()
    if row is None:
        return 0
    item_id, buyer_id, quantity = row
    db.session.execute(sa.update(FlashSaleBuyer).where(FlashSaleBuyer.item_id == item_id,
                                                       FlashSaleBuyer.buyer_id == buyer_id,
                                                       FlashSaleBuyer.quantity >= quantity)
                       .values(quantity=FlashSaleBuyer.quantity - quantity)
                       .execution_options(synchronize_session=False))
    sku_id, sale_id, released = db.session.execute(
        sa.update(FlashSaleItem).where(FlashSaleItem.id == item_id)
        .values(stock_sold=FlashSaleItem.stock_sold - quantity)
        .returning(FlashSaleItem.sku_id, FlashSaleItem.flash_sale_id, FlashSaleItem.released_units)
        .execution_options(synchronize_session=False)).one()
    if released is not None:  # the event is over: the unit goes to the shelf
        stock.give_back([(sku_id, quantity)], MovementReason.FLASH_SALE_RELEASE, ref=("flash_sale", str(sale_id)))
    else:
        enqueue_after_commit(redis_sync.give_back, item_id, order_id, buyer_id, quantity, queue="high")
    return quantity


def on_order_cancelled(order, **_kw) -> None:
    """Receiver of `order_cancelled` (app/receivers.py); one guarded UPDATE that finds
    nothing for an order without flash-sale units."""
    give_back_for_cancelled(order.id)
