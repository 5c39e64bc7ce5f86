"""Events the shop records for analytics (DOMAIN.md, Notifications and analytics)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.extensions import db


class Event(db.Model):
    __tablename__ = "events"
    # On PostgreSQL the table is partitioned by month of created_at (app/analytics/partitions.py,
    # migration 0016), its primary key there being (id, created_at).
    __table_args__ = (
        sa.Index("ix_events_type_created", "type", "created_at"),
        sa.Index("ix_events_anon_unmerged", "anon_id", postgresql_where=sa.text("user_id IS NULL"),
                 sqlite_where=sa.text("user_id IS NULL")),  # merging an anonymous visitor at sign-in
        sa.Index("ix_events_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(16))  # page_view | search | click | add_to_cart | order | pay ...
    anon_id: Mapped[str | None] = mapped_column(sa.String(40))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    path: Mapped[str | None] = mapped_column(sa.String(300))
    product_id: Mapped[int | None] = mapped_column()
    merchant_id: Mapped[int | None] = mapped_column()
    query: Mapped[str | None] = mapped_column(sa.String(100))
    dwell_ms: Mapped[int | None] = mapped_column()
    props: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- sales rollups -----------------------------------------------------------------------------
# Kept up to date from order, payment and refund events (app/analytics/rollups.py), so the
# dashboards read a row per shop and day instead of scanning orders. Days are Asia/Shanghai
# dates; the platform's figures are the sums over every shop.


class SalesDay(db.Model):
    """One shop's sales on one day."""

    __tablename__ = "sales_days"

    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True, index=True)
    paid_orders: Mapped[int] = mapped_column(default=0)
    units: Mapped[int] = mapped_column(default=0)
    gmv_fen: Mapped[int] = mapped_column(default=0)  # what buyers paid (goods and shipping)
    refund_fen: Mapped[int] = mapped_column(default=0)  # refunds the gateway confirmed that day
    # commissions settled that day less those clawed back that day (its orders' distributors)
    commission_fen: Mapped[int] = mapped_column(default=0, server_default="0")


class BuyerDay(db.Model):
    """A buyer paid this shop on this day (paying buyers over a period are distinct buyers)."""

    __tablename__ = "sales_buyer_days"
    # the platform's paying buyers of the live days read by day, across shops
    __table_args__ = (sa.Index("ix_sales_buyer_days_day", "day", "buyer_id"),)

    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class FirstPurchase(db.Model):
    """The day a buyer first paid a shop (scope = the shop's id) or the platform (scope 0):
    a buyer paying in a period is new if that day is in it, else returning."""

    __tablename__ = "sales_first_purchases"
    __table_args__ = (sa.Index("ix_sales_first_purchases_scope_day", "scope_id", "day"),)  # new buyers of a range

    scope_id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date)


class ProductDay(db.Model):
    """One product's paid units and revenue on one day (rankings)."""

    __tablename__ = "sales_product_days"
    __table_args__ = (
        sa.Index("ix_sales_product_days_merchant_day", "merchant_id", "day"),
        # The platform's rankings read a range of days from the index alone (PostgreSQL).
        sa.Index("ix_sales_product_days_day", "day", postgresql_include=["product_id", "units", "revenue_fen"]),
    )

    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id", ondelete="CASCADE"))
    units: Mapped[int] = mapped_column(default=0)
    revenue_fen: Mapped[int] = mapped_column(default=0)  # the items' paid amount (no shipping)


class HourSales(db.Model):
    """Paid orders by Shanghai day and hour, for a shop (scope = its id) or the platform
    (scope 0): the purchase-time heatmaps (hour x weekday, day of month). The platform's
    own rows keep its heatmap a few hundred rows a month however many shops sell."""

    __tablename__ = "sales_hours"
    __table_args__ = (sa.Index("ix_sales_hours_day", "day"),)

    scope_id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    hour: Mapped[int] = mapped_column(primary_key=True)
    paid_orders: Mapped[int] = mapped_column(default=0)


class ProvinceSales(db.Model):
    """Paid orders and GMV by Shanghai day and the order's province, for a shop (scope =
    its id) or the platform (scope 0): the province map and ranking."""

    __tablename__ = "sales_provinces"
    __table_args__ = (sa.Index("ix_sales_provinces_day", "day"),)

    scope_id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    province: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    paid_orders: Mapped[int] = mapped_column(default=0)
    gmv_fen: Mapped[int] = mapped_column(default=0)


# --- settled behaviour days ----------------------------------------------------------------------
# Distinct people over a range (paying buyers, the funnel's visitors) cannot be added up
# from daily counts, and counting them from the raw rows costs as much as the rows. Once a
# day can no longer change (app/analytics/settled_days.py) who did what that day is kept as
# a compressed set, and the searches as counts per keyword, so a range reads a row per day.


class SettledDay(db.Model):
    """This Shanghai day's sets and keyword counts are written (a day without any activity
    has a row here and nothing else)."""

    __tablename__ = "analytics_settled_days"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    settled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PeopleDay(db.Model):
    """Who did `measure` (payers, view, cart, order, pay) on `day` for a shop (scope = its
    id) or the platform (scope 0): a serialized 64-bit roaring bitmap of person keys."""

    __tablename__ = "analytics_people_days"

    scope_id: Mapped[int] = mapped_column(primary_key=True)
    measure: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    people: Mapped[int] = mapped_column(default=0)
    members: Mapped[bytes] = mapped_column(sa.LargeBinary)


class KeywordDay(db.Model):
    """Searches for one keyword (lower-cased) on one day, and how many found nothing."""

    __tablename__ = "analytics_keyword_days"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    keyword: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    searches: Mapped[int] = mapped_column(default=0)
    empty_searches: Mapped[int] = mapped_column(default=0)
# --- products bought together (association rules) ------------------------------------------------
# Mined from paid baskets by `app/analytics/rules.py` (FP-growth); a recompute replaces a
# scope's rows in one transaction, so a reader sees the old set or the new one, never half.


class ProductRule(db.Model):
    """"Baskets with the antecedent also hold the consequent": one product to one product,
    in a scope (a shop's id: mined from that shop's orders; 0: the platform, mined from
    whole checkouts). The ratios are rounded half up from the counts, which are exact:
    support = both / baskets, confidence = both / antecedent, lift = confidence ÷
    (consequent / baskets)."""

    __tablename__ = "product_rules"
    # The unique key also serves the product page (a scope's rules of one antecedent).
    __table_args__ = (sa.UniqueConstraint("scope_id", "antecedent_id", "consequent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int] = mapped_column()  # a shop's id, or 0 for the platform
    antecedent_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"))
    consequent_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), index=True)
    support_bp: Mapped[int] = mapped_column()  # basis points: 10000 = every basket
    confidence_bp: Mapped[int] = mapped_column()
    lift_bp: Mapped[int] = mapped_column(sa.BigInteger)  # 10000 = 1.0 (no association)
    baskets: Mapped[int] = mapped_column()  # baskets of the scope in the window
    both_baskets: Mapped[int] = mapped_column()
    antecedent_baskets: Mapped[int] = mapped_column()
    consequent_baskets: Mapped[int] = mapped_column()
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RuleRun(db.Model):
    """The latest computation of a scope's rules: when, over how many baskets, how many
    rules it kept, how long it took and the thresholds it used (the pages' header)."""

    __tablename__ = "product_rule_runs"

    scope_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    baskets: Mapped[int] = mapped_column(default=0)
    rules: Mapped[int] = mapped_column(default=0)
    duration_ms: Mapped[int] = mapped_column(default=0)
    # {"lookback_days", "min_baskets", "min_support_bp", "min_confidence_bp", "min_lift_pct"}
    thresholds: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
