"""Sales figures for a range of Shanghai days, for one shop or the whole platform, read
from the rollups (app/analytics/rollups.py): a handful of queries over rows per shop and
day, whatever the number of orders.

- paid orders, units, GMV (what buyers paid, shipping included), refunds (confirmed in
  the range), net sales (GMV - refunds), AOV (GMV / paid orders, rounded half up);
- commissions paid: settled in the range less clawed back in the range;
- paying buyers: distinct buyers who paid in the range; new buyers: those whose first
  paid order (with this shop, or anywhere for the platform) is in the range; returning:
  the others.
`compare` gives the same figures for the period just before (as long) and the change.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from app.analytics import settled_days
from app.analytics.models import FirstPurchase, HourSales, ProductDay, ProvinceSales, SalesDay
from app.analytics.rollups import PLATFORM
from app.catalog.models import Product
from app.core.money import prorate
from app.extensions import db
from app.merchants.models import Merchant

MAX_DAYS = 366


@dataclass(frozen=True)
class Figures:
    paid_orders: int = 0
    units: int = 0
    gmv_fen: int = 0
    refund_fen: int = 0
    commission_fen: int = 0
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
        sa.func.coalesce(sa.func.sum(SalesDay.commission_fen), 0),
    ).where(shop(SalesDay.merchant_id), SalesDay.day.between(first, last))).one()
    paying = settled_days.people_counts(first, last, merchant_id, ("payers",))["payers"]
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


# --- series and rankings for the charts ---------------------------------------------------------


def _shop(column, merchant_id: int | None):
    return column == merchant_id if merchant_id is not None else sa.true()


def daily(first: date, last: date, merchant_id: int | None = None) -> list[dict]:
    """One entry per day of the range (days without sales too): day, paid_orders, gmv_fen,
    refund_fen, units — the line chart."""
    rows = {row.day: row for row in db.session.execute(
        sa.select(SalesDay.day, sa.func.sum(SalesDay.paid_orders).label("paid_orders"),
                  sa.func.sum(SalesDay.gmv_fen).label("gmv_fen"), sa.func.sum(SalesDay.refund_fen).label("refund_fen"),
                  sa.func.sum(SalesDay.units).label("units"))
        .where(_shop(SalesDay.merchant_id, merchant_id), SalesDay.day.between(first, last)).group_by(SalesDay.day))}
    out = []
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        row = rows.get(day)
        out.append({"day": day, "paid_orders": int(row.paid_orders) if row else 0,
                    "gmv_fen": int(row.gmv_fen) if row else 0, "refund_fen": int(row.refund_fen) if row else 0,
                    "units": int(row.units) if row else 0})
    return out


def top_products(first: date, last: date, merchant_id: int | None = None, *, by: str = "units",
                 limit: int = 10) -> list[dict]:
    """The best sellers of the range by `units` or `revenue_fen`, with their titles (the
    ranking is made first, then only its rows are joined to their products)."""
    units, revenue = sa.func.sum(ProductDay.units).label("units"), sa.func.sum(ProductDay.revenue_fen).label("revenue_fen")
    ranked = (sa.select(ProductDay.product_id, units, revenue)
              .where(_shop(ProductDay.merchant_id, merchant_id), ProductDay.day.between(first, last))
              .group_by(ProductDay.product_id)
              .order_by((units if by == "units" else revenue).desc(), ProductDay.product_id).limit(limit).subquery())
    rows = db.session.execute(
        sa.select(ranked.c.product_id, Product.title, ranked.c.units, ranked.c.revenue_fen)
        .join(Product, Product.id == ranked.c.product_id)
        .order_by((ranked.c.units if by == "units" else ranked.c.revenue_fen).desc(), ranked.c.product_id)).all()
    return [{"product_id": r.product_id, "title": r.title, "units": int(r.units), "revenue_fen": int(r.revenue_fen)}
            for r in rows]


def top_merchants(first: date, last: date, limit: int = 10) -> list[dict]:
    """Shops by GMV over the range, with their share of the platform's (the pie)."""
    total = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(SalesDay.gmv_fen), 0))
                              .where(SalesDay.day.between(first, last))) or 0
    rows = db.session.execute(
        sa.select(SalesDay.merchant_id, Merchant.name, sa.func.sum(SalesDay.gmv_fen).label("gmv_fen"),
                  sa.func.sum(SalesDay.paid_orders).label("paid_orders"))
        .join(Merchant, Merchant.id == SalesDay.merchant_id).where(SalesDay.day.between(first, last))
        .group_by(SalesDay.merchant_id, Merchant.name).order_by(sa.func.sum(SalesDay.gmv_fen).desc()).limit(limit)).all()
    return [{"merchant_id": r.merchant_id, "name": r.name, "gmv_fen": int(r.gmv_fen), "paid_orders": int(r.paid_orders),
             "share": (int(r.gmv_fen) / total) if total else 0.0} for r in rows]


def provinces(first: date, last: date, merchant_id: int | None = None) -> list[dict]:
    """Paid orders and GMV by the orders' province, most first (the map / ranking)."""
    rows = db.session.execute(
        sa.select(ProvinceSales.province, sa.func.sum(ProvinceSales.paid_orders).label("paid_orders"),
                  sa.func.sum(ProvinceSales.gmv_fen).label("gmv_fen"))
        .where(settled_days.scoped_rows(ProvinceSales, first, last, merchant_id))
        .group_by(ProvinceSales.province)
        .order_by(sa.func.sum(ProvinceSales.gmv_fen).desc(), ProvinceSales.province)).all()
    return [{"province": r.province, "paid_orders": int(r.paid_orders), "gmv_fen": int(r.gmv_fen)} for r in rows]


def purchase_times(first: date, last: date, merchant_id: int | None = None) -> dict:
    """When people buy: paid orders by weekday (0 = Monday) x hour, and by day of the month
    (the heatmaps). Summed in Python from one grouped query per day and hour."""
    rows = db.session.execute(
        sa.select(HourSales.day, HourSales.hour, sa.func.sum(HourSales.paid_orders))
        .where(settled_days.scoped_rows(HourSales, first, last, merchant_id))
        .group_by(HourSales.day, HourSales.hour)).all()
    by_week = [[0] * 24 for _ in range(7)]
    by_month_day = [0] * 31
    for day, hour, orders in rows:
        by_week[day.weekday()][hour] += int(orders)
        by_month_day[day.day - 1] += int(orders)
    return {"weekday_hour": by_week, "month_day": by_month_day}


# --- from the behaviour events -------------------------------------------------------------------
# The funnel and the search keywords come from `events`: the settled days from what
# settled_days.py kept of them, the last days from the events themselves.

FUNNEL = (("view", "page_view"), ("cart", "add_to_cart"), ("order", "order"), ("pay", "pay"))


def funnel(first: date, last: date, merchant_id: int | None = None) -> list[dict]:
    """Visitors at each step, view → cart → order → paid: distinct people (signed-in user, or
    the anonymous id) with at least one such event in the range; for a shop, product views
    and the other steps of its own products and orders."""
    counts = settled_days.people_counts(first, last, merchant_id, [step for step, _kind in FUNNEL])
    return [{"step": step, "visitors": counts[step]} for step, _kind in FUNNEL]


def search_keywords(first: date, last: date, limit: int = 20) -> dict:
    """The most searched keywords of the range, and those that found nothing (searches
    recorded with `results` 0), each with how many times; ties in keyword order."""
    rows = settled_days.keyword_counts(first, last)

    def top(index: int) -> list[dict]:
        ranked = sorted((row for row in rows if row[index]), key=lambda row: (-row[index], row[0]))[:limit]
        return [{"keyword": row[0], "searches": row[index]} for row in ranked]

    return {"top": top(1), "no_results": top(2)}
