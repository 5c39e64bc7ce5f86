"""What the after-sales pages and the API list: each a fixed number of queries whatever
the page size (lines and their items come with `selectinload`)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.aftersales.models import AfterSale, AfterSaleLine, Dispute
from app.aftersales.states import AfterSaleStatus
from app.extensions import db
from app.merchants.models import Merchant
from app.orders.models import Order

S = AfterSaleStatus

# Tabs of the shop's queue and the buyer's list: name -> statuses (None: all).
TABS: dict[str, tuple[str, ...] | None] = {
    "all": None,
    "pending": (S.PENDING,),
    "awaiting_return": (S.AWAITING_RETURN,),
    "returned": (S.RETURNED,),
    "in_progress": (S.REFUNDING, S.EXCHANGE_SHIPPED),
    "disputed": (S.DISPUTED,),
    "done": (S.REFUNDED, S.COMPLETED),
    "ended": (S.REJECTED, S.CLOSED, S.CANCELLED),
    # The buyer's "being handled" tab: everything after they shipped back or the shop said yes,
    # and disputes (a returned or disputed request was in none of the buyer's tabs but 全部).
    "processing": (S.RETURNED, S.REFUNDING, S.EXCHANGE_SHIPPED, S.DISPUTED),
}
# The shop's console opens on what needs it.
MERCHANT_TABS = ("pending", "returned", "awaiting_return", "in_progress", "disputed", "done", "ended", "all")
BUYER_TABS = ("all", "pending", "awaiting_return", "processing", "done", "ended")
# The buyer's requests still under way (the 售后 badge on 我的): every buyer tab but the last two.
BUYER_OPEN_TABS = ("pending", "awaiting_return", "processing")


def pick_tab(raw: str | None, tabs: tuple[str, ...]) -> str:
    return raw if raw in tabs else tabs[0]


def _listing(stmt: sa.Select, tab: str | None, status: str | None = None) -> sa.Select:
    statuses = TABS.get(tab or "all")
    if status:
        stmt = stmt.where(AfterSale.status == status)
    elif statuses:
        stmt = stmt.where(AfterSale.status.in_(statuses))
    return (stmt.options(selectinload(AfterSale.lines).selectinload(AfterSaleLine.item),
                         selectinload(AfterSale.order).load_only(Order.order_no, Order.status))
            .order_by(AfterSale.id.desc()))


def of_buyer(buyer_id: int, tab: str | None = None, status: str | None = None) -> sa.Select:
    """The buyer's requests, newest first, with their lines, order and shop (the cards name the shop)."""
    return _listing(sa.select(AfterSale).where(AfterSale.buyer_id == buyer_id), tab, status) \
        .options(selectinload(AfterSale.merchant).load_only(Merchant.name))


def of_merchant(merchant_id: int, tab: str | None = None, status: str | None = None, q: str | None = None) -> sa.Select:
    stmt = sa.select(AfterSale).where(AfterSale.merchant_id == merchant_id)
    if q:
        stmt = stmt.where(sa.or_(AfterSale.aftersale_no == q.strip(),
                                 AfterSale.order_id.in_(sa.select(Order.id).where(Order.order_no == q.strip()))))
    return _listing(stmt, tab, status)


def of_order(order_id: int) -> list[AfterSale]:
    return list(db.session.scalars(_listing(sa.select(AfterSale).where(AfterSale.order_id == order_id), None)))


def tab_counts(*, merchant_id: int | None = None, buyer_id: int | None = None) -> dict[str, int]:
    """tab -> requests in it, in one query."""
    stmt = sa.select(AfterSale.status, sa.func.count()).group_by(AfterSale.status)
    if merchant_id is not None:
        stmt = stmt.where(AfterSale.merchant_id == merchant_id)
    if buyer_id is not None:
        stmt = stmt.where(AfterSale.buyer_id == buyer_id)
    by_status = dict(db.session.execute(stmt).all())
    return {tab: sum(n for s, n in by_status.items() if statuses is None or s in statuses)
            for tab, statuses in TABS.items()}


def buyer_history(buyer_id: int, merchant_id: int, limit: int = 10) -> tuple[int, list[AfterSale]]:
    """How many requests the buyer made to this shop, and the latest `limit` of them
    (what the shop sees next to a request)."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(AfterSale).where(
        AfterSale.buyer_id == buyer_id, AfterSale.merchant_id == merchant_id)) or 0
    latest = list(db.session.scalars(sa.select(AfterSale).where(
        AfterSale.buyer_id == buyer_id, AfterSale.merchant_id == merchant_id).order_by(AfterSale.id.desc())
        .limit(limit)))
    return total, latest


# A dispute waits for the platform while it is unruled and its request still disputed:
# the buyer may withdraw, or the shop give in and refund, before anyone rules.
_WAITING = sa.and_(Dispute.ruled_at.is_(None), AfterSale.status == S.DISPUTED)


def disputes(open_only: bool = True) -> sa.Select:
    """Disputed requests for the platform's queue: waiting for a ruling (oldest first),
    or handled (ruled, or ended without a ruling; latest first)."""
    stmt = (sa.select(AfterSale).join(Dispute, Dispute.aftersale_id == AfterSale.id)
            .options(selectinload(AfterSale.lines).selectinload(AfterSaleLine.item),
                     selectinload(AfterSale.dispute), selectinload(AfterSale.merchant), selectinload(AfterSale.buyer),
                     selectinload(AfterSale.order).load_only(Order.order_no, Order.status)))
    if open_only:
        return stmt.where(_WAITING).order_by(Dispute.created_at, Dispute.id)
    ended = sa.func.coalesce(Dispute.ruled_at, AfterSale.finished_at, AfterSale.refund_started_at, Dispute.created_at)
    return stmt.where(sa.not_(_WAITING)).order_by(ended.desc(), Dispute.id.desc())


def open_dispute_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Dispute)
                             .join(AfterSale, AfterSale.id == Dispute.aftersale_id).where(_WAITING)) or 0


def dispute_counts() -> dict[str, int]:
    """{"open": waiting for a ruling, "done": handled}, in one query."""
    waiting, handled = db.session.execute(
        sa.select(sa.func.count().filter(_WAITING), sa.func.count().filter(sa.not_(_WAITING)))
        .select_from(Dispute).join(AfterSale, AfterSale.id == Dispute.aftersale_id)).one()
    return {"open": waiting or 0, "done": handled or 0}


def for_platform(status: str | None = None, merchant_id: int | None = None, q: str | None = None) -> sa.Select:
    """Every request on the platform, newest first, by status, shop and number (the
    request's or its order's), with shop and buyer loaded."""
    stmt = sa.select(AfterSale)
    if merchant_id is not None:
        stmt = stmt.where(AfterSale.merchant_id == merchant_id)
    if q:
        stmt = stmt.where(sa.or_(AfterSale.aftersale_no == q.strip(),
                                 AfterSale.order_id.in_(sa.select(Order.id).where(Order.order_no == q.strip()))))
    return _listing(stmt, None, status).options(selectinload(AfterSale.merchant), selectinload(AfterSale.buyer),
                                                selectinload(AfterSale.dispute))


def image_key(aftersale: AfterSale, name: str) -> str | None:
    """The stored key (photo or thumbnail) whose file name is `name` among the request's
    evidence, both sides' dispute evidence and the dispute thread's photos; None when it
    is none of them. The caller has loaded `aftersale` scoped to who asks."""
    sets = [aftersale.images or []]
    if aftersale.dispute is not None:
        sets += [aftersale.dispute.buyer_evidence or [], aftersale.dispute.merchant_evidence or []]
        sets += [message.images or [] for message in aftersale.dispute.messages]
    keys = {img.get(k) for images in sets for img in images for k in ("key", "thumb_key")}
    return next((k for k in keys if k and k.rsplit("/", 1)[-1] == name), None)
