"""Checkout: from chosen items to one Payment and one Order per shop.

Guarantees:
- `quote` and `submit` judge items the same way (`app.orders.lines`), and
  `submit` refuses anything the buyer could not see in the quote: off-sale
  items, closed shops, someone else's address, bad quantities.
- A submit is all or nothing: stock for every item is reserved (on_order) in one
  ascending-SKU pass, so a short SKU rolls back the whole checkout and names every
  short SKU (OutOfStock), and concurrent checkouts cannot deadlock.
- The same idempotency key from the same buyer returns the first Payment and
  creates nothing twice, even when the two submits race.
- Prices, titles, specs, images, the address and the referral chain are
  snapshotted on the order; later edits to the catalogue change nothing.
- One narrow exception to "price and stock come from the catalogue": a `HeldLine`
  (a flash sale's unit) brings its own unit price and stock already held for the
  buyer; everything else (order, payment, timeout, fees, commissions) is the same.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm.attributes import set_committed_value

from app.accounts import addresses
from app.accounts.models import Address, User
from app.analytics.models import Event
from app.catalog import categories
from app.core import settings as platform_settings
from app.core.bounds import bounded_int
from app.core.clock import utcnow
from app.core.errors import Conflict, ValidationError
from app.core.jobs import schedule_after_commit
from app.core.money import fen_to_yuan
from app.distribution import referrals
from app.extensions import db
from app.inventory import services as stock
from app.merchants.models import Merchant
from app.orders import cart, numbers, tasks
from app.orders import lines as order_lines
from app.orders.errors import OrderError
from app.orders.lines import Line
from app.orders.models import Order, OrderEvent, OrderItem
from app.orders.states import OrderStatus, StockDeduction, StockState
from app.payments import services as payments
from app.payments.models import Payment

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_\-]{8,64}$")
NOTE_MAX = 200



@dataclass
class ShopQuote:
    merchant: Merchant
    lines: list[Line] = field(default_factory=list)

    @property
    def items_fen(self) -> int:
        return sum(line.subtotal_fen for line in self.lines)

    @property
    def shipping_fen(self) -> int:
        return self.merchant.shipping_fee_for(self.items_fen)

    @property
    def amount_fen(self) -> int:
        return self.items_fen + self.shipping_fen

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line in self.lines)


@dataclass
class Quote:
    shops: list[ShopQuote]

    @property
    def items_fen(self) -> int:
        return sum(s.items_fen for s in self.shops)

    @property
    def shipping_fen(self) -> int:
        return sum(s.shipping_fen for s in self.shops)

    @property
    def amount_fen(self) -> int:
        return sum(s.amount_fen for s in self.shops)

    @property
    def quantity(self) -> int:
        return sum(s.quantity for s in self.shops)

    @property
    def problems(self) -> list[Line]:
        return [line for s in self.shops for line in s.lines if not line.buyable]


@dataclass(frozen=True)
class HeldLine:
    """The only item of a checkout whose unit price and stock another domain decided:
    a flash sale's unit (app/flashsales/buying.py). Checkout charges `unit_price_fen`
    instead of the catalogue's price and reserves nothing for it, because the units are
    already held for the buyer (taken from the event's own reservation); the order is
    written in on_order mode with stock_state `held`, so payment deducts as for any
    reservation and a cancel leaves the units to the holder's `order_cancelled` receiver."""

    sku_id: int
    quantity: int
    unit_price_fen: int


def clean_items(raw_items: Iterable) -> list[tuple[int, int]]:
    """[(sku_id, quantity)] from API/form input, merged per SKU; ValidationError otherwise."""
    merged: dict[int, int] = {}
    for raw in raw_items or []:
        try:
            sku_id = bounded_int(raw[0] if isinstance(raw, list | tuple) else raw["sku_id"])
            quantity_raw = raw[1] if isinstance(raw, list | tuple) else raw["quantity"]
        except (KeyError, TypeError, ValueError, IndexError):
            raise ValidationError(_("商品信息不完整"), code=OrderError.INVALID_ITEMS) from None
        merged[sku_id] = merged.get(sku_id, 0) + order_lines.clean_quantity(quantity_raw)
    if not merged:
        raise ValidationError(_("请选择要购买的商品"), code=OrderError.EMPTY_ORDER)
    for quantity in merged.values():
        order_lines.clean_quantity(quantity)  # the merged total obeys the cap too
    return list(merged.items())


def quote(items: list[tuple[int, int]]) -> Quote:
    """Price `items` as they stand now, grouped by shop, with each line's problem if any."""
    skus = order_lines.load_skus(sku_id for sku_id, _q in items)
    shops: dict[int, ShopQuote] = {}
    for sku_id, quantity in items:
        if sku_id not in skus:
            raise Conflict(_("商品已下架或不存在"), code=OrderError.PRODUCT_UNAVAILABLE, fields={str(sku_id): _("商品不存在")})
        line = order_lines.build_line(skus[sku_id], quantity)
        shops.setdefault(line.merchant.id, ShopQuote(line.merchant)).lines.append(line)
    return Quote(list(shops.values()))


def _refuse_unbuyable(q: Quote) -> None:
    unavailable = [line for line in q.problems
                   if line.problem in (order_lines.OFF_SALE, order_lines.SHOP_CLOSED)]
    if unavailable:
        raise Conflict(_("部分商品已下架或店铺暂停营业，请返回修改"), code=OrderError.PRODUCT_UNAVAILABLE,
                       fields={str(line.sku.id): line.problem_text for line in unavailable})


def _address_snapshot(address: Address) -> dict:
    return {"recipient": address.recipient, "phone": address.phone, "province": address.province,
            "city": address.city, "district": address.district, "region": address.region_text,
            "detail": address.detail}


def _fresh_numbers(shops: int) -> tuple[str, list[str]]:
    """A payment number and `shops` order numbers, none of them taken, checked in one
    statement (a collision draws them all again). The unique columns stay the guard; the
    check keeps a collision from aborting the buyer's transaction."""
    for _attempt in range(5):
        trade_no = numbers.new_out_trade_no()
        order_nos = [numbers.new_order_no() for _shop in range(shops)]
        taken = db.session.scalar(sa.select(sa.literal(1)).where(sa.or_(
            sa.exists().where(Payment.out_trade_no == trade_no),
            sa.exists().where(Order.order_no.in_(order_nos)))))
        if not taken and len(set(order_nos)) == shops:
            return trade_no, order_nos
    raise Conflict(_("系统繁忙，请重试"), code=OrderError.BUSY)


def submit(buyer: User, items: list[tuple[int, int]], address_id, notes: dict | None, idempotency_key: str,
           from_cart: bool = False, expected_total_fen: int | None = None) -> Payment:
    """Create the Payment and its Orders (status pending_payment) for `items`.

    Returns the existing Payment when this key was used before by this buyer.
    With `expected_total_fen` (the total the buyer was shown), a total that differs
    now (a price or a shipping fee changed meanwhile) is refused with Conflict
    `total_changed` and nothing is created, so nobody pays an amount they did not see."""
    return _submit(buyer, items, address_id, notes, idempotency_key, from_cart, expected_total_fen)[0]


def submit_held(buyer: User, held: HeldLine, address_id, idempotency_key: str) -> tuple[Payment, bool]:
    """Checkout for one held line (see HeldLine): (the payment, True when made here).
    The key is not looked up first (the holder knows whether it is new): False means a
    payment with this key exists already (a racing submit committed first, or an earlier
    one), so nothing was made here and the caller takes nothing either."""
    return _submit(buyer, [(held.sku_id, held.quantity)], address_id, {}, idempotency_key, held=held)


def _submit(buyer: User, items: list[tuple[int, int]], address_id, notes: dict | None, idempotency_key: str,
            from_cart: bool = False, expected_total_fen: int | None = None,
            held: HeldLine | None = None) -> tuple[Payment, bool]:
    key = (idempotency_key or "").strip()
    if not IDEMPOTENCY_KEY.match(key):
        raise ValidationError(_("提交标识无效，请刷新页面后重试"), code=OrderError.INVALID_IDEMPOTENCY_KEY)
    # A holder (flash sale) knows whether the key is new; open_payment's conflict catches one that is not.
    existing = payments.by_idempotency_key(buyer.id, key) if held is None else None
    if existing is not None:
        return existing, False
    items = clean_items(items)
    notes = {str(k): (v or "").strip() for k, v in (notes or {}).items()}
    for text in notes.values():
        if len(text) > NOTE_MAX:
            raise ValidationError(_("备注最多 %(n)d 字", n=NOTE_MAX), code=OrderError.NOTE_TOO_LONG)
    try:
        address = addresses.get_own(buyer.id, bounded_int(address_id))
    except (TypeError, ValueError):
        raise ValidationError(_("请选择收货地址"), code=OrderError.ADDRESS_REQUIRED,
                              fields={"address_id": _("请选择收货地址")}) from None
    q = quote(items)
    if held is not None:
        q.shops[0].lines[0].unit_price_fen = held.unit_price_fen
    if expected_total_fen is not None and expected_total_fen != q.amount_fen:
        raise Conflict(_("商品价格或运费有变化，请确认新的金额后再提交"), code=OrderError.TOTAL_CHANGED,
                       fields={"expected_total_fen": _("当前应付 %(amount)s", amount=fen_to_yuan(q.amount_fen))})
    _refuse_unbuyable(q)

    now = utcnow()
    mode = StockDeduction.ON_ORDER if held is not None else platform_settings.get("stock_deduction")
    stock_state = StockState.HELD if held is not None else \
        StockState.RESERVED if mode == StockDeduction.ON_ORDER else StockState.NONE
    timeout = timedelta(minutes=platform_settings.get("order_payment_timeout_minutes"))
    trade_no, order_nos = _fresh_numbers(len(q.shops))
    payment, created = payments.open_payment(trade_no, buyer.id, q.amount_fen, key)
    if not created:  # the same submit raced us and committed first: answer with its payment
        return payment, False

    if mode == StockDeduction.ON_PAYMENT:
        short = [line for line in q.problems if line.problem in (order_lines.SOLD_OUT, order_lines.ABOVE_STOCK)]
        if short:
            raise stock.OutOfStock([stock.Shortfall(line.sku.id, line.quantity, line.sku.stock) for line in short])

    chain = referrals.snapshot_for(buyer.id)
    placed: list[Order] = []
    for shop, order_no in zip(q.shops, order_nos, strict=True):
        # Before the order joins the session: this query would flush it, and its `items`
        # would then be loaded from the database (empty) on the first append.
        fees = categories.platform_fee_bp({line.product.id: line.product.category_id for line in shop.lines},
                                          shop.merchant.platform_fee_bp)
        order = Order(
            order_no=order_no, buyer_id=buyer.id,
            merchant_id=shop.merchant.id, payment=payment, status=OrderStatus.PENDING_PAYMENT,
            address=_address_snapshot(address), items_fen=shop.items_fen, shipping_fen=shop.shipping_fen,
            amount_fen=shop.amount_fen, note=notes.get(str(shop.merchant.id), ""), referral_snapshot=chain,
            stock_mode=mode, stock_state=stock_state,
            pay_expires_at=now + timeout,
        )
        db.session.add(order)
        placed.append(order)
        for line in shop.lines:
            image = line.product.main_image
            order.items.append(OrderItem(
                product_id=line.product.id, sku_id=line.sku.id, title=line.product.title,
                spec_text=line.sku.spec_text, image_key=image.thumb_key if image else None,
                unit_price_fen=line.unit_price_fen, quantity=line.quantity, paid_fen=line.subtotal_fen,
                platform_fee_bp=fees[line.product.id]))
        # The timeline's first row and the analytics event go in the same flush as the
        # order (the relationship gives the event its order id): one flush per checkout.
        db.session.add(OrderEvent(order=order, actor_id=buyer.id, from_status=None,
                                  to_status=OrderStatus.PENDING_PAYMENT))
        db.session.add(Event(type="order", user_id=buyer.id, merchant_id=shop.merchant.id,
                             props={"order_no": order.order_no, "amount_fen": order.amount_fen}))
    if from_cart:
        cart.remove_skus(buyer.id, [sku_id for sku_id, _q in items])
    if mode == StockDeduction.ON_ORDER and held is None:
        # Last write before the commit: the SKU rows stay locked from here to the
        # commit, so a flash sale's buyers queue on them as briefly as possible.
        stock.reserve(items, ref=("payment", payment.out_trade_no))
    db.session.flush()
    # `payment.orders` is read-only (the orders point at the payment): fill it with what
    # was just made rather than read it back.
    set_committed_value(payment, "orders", sorted(placed, key=lambda o: o.id))

    schedule_after_commit(tasks.cancel_unpaid_payment, payment.id, at=now + timeout + timedelta(seconds=5))
    return payment, True
