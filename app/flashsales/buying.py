"""Buying a flash-sale unit: the Redis gate first, then the normal checkout.

1. The Lua script (fastpath.take) checks the window, the stock left and the buyer's
   limit and takes the units, in one step. Losers are answered from Redis alone:
   409 `sold_out` / `limit_reached`, 422 `not_started` / `ended`; no SQL is run.
2. A winner goes to PostgreSQL, the truth: `checkout.submit` with a HeldLine (the
   event price, the units already held) makes the payment and the order exactly as a
   normal checkout does; then the buyer's units (`quantity + q <= limit`) and the
   item's (`stock_sold + q <= stock_total`, event still holding stock) are taken by
   conditional UPDATEs, and the order's units are recorded (FlashSaleOrder).
3. If anything fails after the Lua take, the take is undone in Redis at once
   (compensation) and the transaction rolls back.
4. Redis unreachable (ConnectionError, timeout) or the item not loaded in it: the
   same PostgreSQL steps decide alone. Slower (every buyer reaches the database and
   queues on the item's row), still exactly as correct.

Services flush only; the caller commits (`with transaction():`).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from redis.exceptions import RedisError

from app.accounts.models import User
from app.core.bounds import to_int
from app.core.clock import utcnow
from app.core.db import upsert
from app.core.errors import Conflict, NotFound, ValidationError
from app.core.jobs import enqueue_after_commit, get_redis
from app.extensions import db
from app.flashsales import fastpath, redis_sync
from app.flashsales.errors import FlashSaleError
from app.flashsales.models import FlashSale, FlashSaleBuyer, FlashSaleItem, FlashSaleOrder
from app.flashsales.states import MAX_LIMIT, FlashSaleStatus
from app.orders import checkout
from app.orders.checkout import IDEMPOTENCY_KEY, HeldLine
from app.payments import services as payments
from app.payments.models import Payment

log = logging.getLogger(__name__)


def sold_out() -> Conflict:
    return Conflict(_("手慢了，已抢光"), code=FlashSaleError.SOLD_OUT)


def limit_reached() -> Conflict:
    return Conflict(_("已达到每人限购数量"), code=FlashSaleError.LIMIT_REACHED)


def not_started() -> ValidationError:
    return ValidationError(_("秒杀尚未开始"), code=FlashSaleError.NOT_STARTED)


def ended() -> ValidationError:
    return ValidationError(_("秒杀已结束"), code=FlashSaleError.ENDED)


def busy() -> Conflict:
    return Conflict(_("正在处理你的请求，请稍后查看订单"), code=FlashSaleError.BUSY)


LOSERS = {
    fastpath.Take.SOLD_OUT: sold_out,
    fastpath.Take.LIMIT_REACHED: limit_reached,
    fastpath.Take.NOT_STARTED: not_started,
    fastpath.Take.ENDED: ended,
}


def _clean(item_id, quantity, idempotency_key) -> tuple[int, int, str]:
    item = to_int(item_id, 1)
    if item is None:
        raise NotFound(_("秒杀商品不存在"), code=FlashSaleError.ITEM_NOT_FOUND)
    q = to_int(quantity, 1, MAX_LIMIT)
    if q is None:
        raise ValidationError(_("购买数量为 1 到 %(n)d 件", n=MAX_LIMIT), code=FlashSaleError.INVALID_QUANTITY,
                              fields={"quantity": _("购买数量为 1 到 %(n)d 件", n=MAX_LIMIT)})
    key = (idempotency_key or "").strip()
    if not IDEMPOTENCY_KEY.match(key):
        raise ValidationError(_("提交标识无效，请刷新页面后重试"), code=FlashSaleError.INVALID_IDEMPOTENCY_KEY,
                              fields={"idempotency_key": _("提交标识无效，请刷新页面后重试")})
    return item, q, key


class Buyer(Protocol):
    """Who buys, as the caller knows them before PostgreSQL is asked: `id`, and `user()`,
    the User checked in PostgreSQL (raising when the caller may not buy: a revoked token).
    See app/web/api/security.py (BearerIdentity)."""

    id: int

    def user(self) -> User: ...


def _user_of(buyer: User | Buyer) -> User:
    return buyer if isinstance(buyer, User) else buyer.user()


def buy(buyer: User | Buyer, item_id, quantity, address_id, idempotency_key: str) -> Payment:
    """Take `quantity` units of flash-sale item `item_id` for `buyer` and make the order.
    Returns the Payment (the same one again for a repeated idempotency key).

    `buyer` is a User or a `Buyer` whose `user()` is asked only when the answer is not a
    refusal decided in Redis: every payment made or shown is for a User checked in
    PostgreSQL; a refusal needs nothing but the id."""
    item_id, quantity, key = _clean(item_id, quantity, idempotency_key)
    buyer_id = buyer.id
    gate = _gate()
    client = gate.client()
    outcome = None
    if client is not None:
        try:
            outcome = fastpath.take(client, item_id, buyer_id, quantity, key, utcnow())
        except RedisError as exc:  # Redis down or hung: PostgreSQL decides alone
            gate.down(exc)
            client = None
        else:
            gate.up()
    if outcome in LOSERS:
        raise LOSERS[outcome]()
    if outcome == fastpath.Take.REPLAY:
        _user_of(buyer)  # the payment is shown only to a live token's user
        existing = payments.by_idempotency_key(buyer_id, key)
        if existing is None:
            raise busy()
        return existing
    if outcome == fastpath.Take.NOT_LOADED:
        enqueue_after_commit(redis_sync.rebuild_sale, _sale_id_of(item_id), queue="high")
    if outcome != fastpath.Take.TAKEN:
        return _buy_in_db(_user_of(buyer), item_id, quantity, address_id, key)[0]
    try:
        payment, created = _buy_in_db(_user_of(buyer), item_id, quantity, address_id, key, fresh_key=True)
    except BaseException:
        _undo(client, item_id, buyer_id, quantity, key)
        raise
    if not created:  # the key's payment existed already (its marker had expired): nothing was taken
        _undo(client, item_id, buyer_id, quantity, key)
    return payment


class _Gate:
    """Whether this process asks Redis first. After a failure it stops asking for
    FLASH_REDIS_RECHECK_SECONDS (a hung Redis would cost each buyer a socket timeout),
    then tries again; the outage and the recovery are logged once each."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down_since: float | None = None
        self.next_try = 0.0

    def client(self):
        client = get_redis()
        if client is None or self.down_since is None:
            return client
        return client if time.monotonic() >= self.next_try else None

    def down(self, exc: BaseException) -> None:
        recheck = float(current_app.config.get("FLASH_REDIS_RECHECK_SECONDS", 5))
        with self.lock:
            if self.down_since is None:
                self.down_since = time.time()
                log.error("flash-sale Redis unreachable (%s: %s): buying through PostgreSQL alone until it "
                          "answers", type(exc).__name__, exc)
            self.next_try = time.monotonic() + recheck

    def up(self) -> None:
        if self.down_since is None:
            return
        with self.lock:
            if self.down_since is not None:
                log.warning("flash-sale Redis answers again after %d s", time.time() - self.down_since)
                self.down_since = None


GATE_KEY = "flash_sale_redis_gate"


def _gate() -> _Gate:
    """This app's gate (two apps in one process, as in tests, keep their own)."""
    return current_app.extensions.setdefault(GATE_KEY, _Gate())


def gate_client():
    """The Redis client a buy asks first now, or None (no Redis, or it failed moments ago
    and PostgreSQL decides alone until FLASH_REDIS_RECHECK_SECONDS have passed)."""
    return _gate().client()


def _undo(client, item_id: int, buyer_id: int, quantity: int, key: str) -> None:
    try:
        fastpath.undo(client, item_id, buyer_id, quantity, key)
    except RedisError:  # the sweep rebuilds the item from PostgreSQL within a minute
        log.warning("flash sale %s: could not give a unit back to Redis; left to the sweep", item_id)


def _sale_id_of(item_id: int) -> int:
    return db.session.scalar(sa.select(FlashSaleItem.flash_sale_id).where(FlashSaleItem.id == item_id)) or 0


def _buy_in_db(buyer: User, item_id: int, quantity: int, address_id, key: str,
               fresh_key: bool = False) -> tuple[Payment, bool]:
    """The PostgreSQL steps (winners of the Lua take, or everyone when Redis is away).
    Returns (payment, created here).

    `fresh_key`: the Lua take found no marker for this key, so the lookup by key is
    skipped (a statement off every winner); a payment the key made before anyway (its
    marker lost with a Redis restart) still comes back, from `open_payment`'s conflict."""
    if not fresh_key:
        existing = payments.by_idempotency_key(buyer.id, key)
        if existing is not None:
            return existing, False
    row = db.session.execute(sa.select(FlashSaleItem, FlashSale).join(FlashSale)
                             .where(FlashSaleItem.id == item_id)).first()
    if row is None or row.FlashSale.status in (FlashSaleStatus.DRAFT, FlashSaleStatus.PENDING_REVIEW,
                                               FlashSaleStatus.REJECTED):
        raise NotFound(_("秒杀商品不存在"), code=FlashSaleError.ITEM_NOT_FOUND)
    item, sale = row.FlashSaleItem, row.FlashSale
    now = utcnow()
    if sale.status == FlashSaleStatus.SCHEDULED and now < sale.starts_at:
        raise not_started()
    if sale.status != FlashSaleStatus.SCHEDULED or now >= sale.ends_at or item.released_units is not None:
        raise ended()
    if quantity > item.per_buyer_limit:
        raise limit_reached()
    if item.stock_sold + quantity > item.stock_total:  # a read first: most losers stop here
        raise sold_out()

    payment, created = checkout.submit_held(buyer, HeldLine(item.sku_id, quantity, item.price_fen), address_id, key)
    if not created:
        return payment, False  # a racing submit with this key made it (and took its units)

    # The buyer's units: a first row, or the row there plus these, only within the limit
    # (no row comes back when the limit would be passed).
    row = upsert(FlashSaleBuyer).values(item_id=item.id, buyer_id=buyer.id, quantity=quantity)
    mine = db.session.scalar(row.on_conflict_do_update(
        index_elements=["item_id", "buyer_id"], set_={"quantity": FlashSaleBuyer.quantity + row.excluded.quantity},
        where=FlashSaleBuyer.quantity + row.excluded.quantity <= item.per_buyer_limit).returning(FlashSaleBuyer.quantity))
    if mine is None:
        raise limit_reached()
    # A plain INSERT (nothing reads the row back in this request): no unit-of-work flush.
    db.session.execute(sa.insert(FlashSaleOrder).values(item_id=item.id, order_id=payment.orders[0].id,
                                                        buyer_id=buyer.id, quantity=quantity))
    # The item's row last: winners queue on it only from here to the commit (a refusal
    # rolls back the order's units recorded above with everything else).
    taken = db.session.execute(
        sa.update(FlashSaleItem).where(FlashSaleItem.id == item.id, FlashSaleItem.held.is_(True),
                                       FlashSaleItem.released_units.is_(None),
                                       FlashSaleItem.stock_sold + quantity <= FlashSaleItem.stock_total)
        .values(stock_sold=FlashSaleItem.stock_sold + quantity).execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        raise sold_out()
    return payment, True
