"""Sales figures for a range of Shanghai days, for one shop or the whole platform, read
from the rollups (app/analytics/rollups.py): a handful of queries over rows per shop and
day, whatever the number of orders.

- paid orders, units, GMV (what buyers paid, shipping included), refunds (confirmed in
  the range), net sales (GMV - refunds), AOV (GMV / paid orders, rounded half up);
- paying buyers: distinct buyers who paid in the range; new buyers: those whose first
  paid order (with this shop, or anywhere for the platform) is in the range; returning:
  the others.
`compare` gives the same figures for the period just before (as long) and the change.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from app.analytics.models import BuyerDay, FirstPurchase, SalesDay
from app.analytics.rollups import PLATFORM
from app.core.money import prorate
from app.extensions import db

MAX_DAYS = 366


@dataclass(frozen=True)
class Figures:
    paid_orders: int = 0
    units: int = 0
    gmv_fen: int = 0
    refund_fen: int = 0
    paying_buyers: int = 0
    new_buyers: int = 0

    @property
    def net_fen(self) -> int:
        return self.gmv_fen - self.refund_fen

    @property
    def aov_fen(self) -> int:
        return prorate(self.gmv_fen, 1, self.paid_orders) if self.paid_orders else 0

    @property
    def returning_buyers(self) -> int:
        return self.paying_buyers - self.new_buyers

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "net_fen": self.net_fen, "aov_fen": self.aov_fen,
                "returning_buyers": self.returning_buyers}


def for_days(first: date, last: date, merchant_id: int | None = None) -> Figures:
    """The figures of the days `first`..`last` (both included) for shop `merchant_id`, or
    the platform when None."""
    shop = (lambda column: column == merchant_id) if merchant_id is not None else (lambda column: sa.true())
    sums = db.session.execute(sa.select(
        sa.func.coalesce(sa.func.sum(SalesDay.paid_orders), 0), sa.func.coalesce(sa.func.sum(SalesDay.units), 0),
        sa.func.coalesce(sa.func.sum(SalesDay.gmv_fen), 0), sa.func.coalesce(sa.func.sum(SalesDay.refund_fen), 0),
    ).where(shop(SalesDay.merchant_id), SalesDay.day.between(first, last))).one()
    payers = (sa.select(BuyerDay.buyer_id).where(shop(BuyerDay.merchant_id), BuyerDay.day.between(first, last))
              .distinct().subquery())
    paying = db.session.scalar(sa.select(sa.func.count()).select_from(payers))
    scope = merchant_id if merchant_id is not None else PLATFORM
    new = db.session.scalar(sa.select(sa.func.count()).select_from(FirstPurchase).where(
        FirstPurchase.scope_id == scope, FirstPurchase.day.between(first, last)))
    return Figures(*(int(v) for v in sums), paying_buyers=int(paying or 0), new_buyers=int(new or 0))


@dataclass(frozen=True)
class Comparison:
    current: Figures
    previous: Figures

    def change(self, name: str) -> float | None:
        """The change against the previous period as a fraction (0.25 = +25%); None when
        the previous period had nothing to compare with."""
        now, before = getattr(self.current, name), getattr(self.previous, name)
        return None if not before else (now - before) / before


def compare(first: date, last: date, merchant_id: int | None = None) -> Comparison:
    length = (last - first).days + 1
    return Comparison(for_days(first, last, merchant_id),
                      for_days(first - timedelta(days=length), first - timedelta(days=1), merchant_id))
