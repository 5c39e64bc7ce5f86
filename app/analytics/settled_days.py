"""Settled days: what the dashboards read for the platform, and for distinct people, once a
Shanghai day can no longer change.

Why: a range's paying buyers and funnel visitors are distinct people, which cannot be added
up from daily counts, and counting them from the raw rows costs as much as the rows; the
platform's heatmap and province rows summed over every shop grow with the shops. So, for
each day that has settled, this keeps who did what (a 64-bit roaring bitmap per scope,
measure and day), the searches per keyword, and the platform's own hour and province
rows. A dashboard then reads a row per day for settled days and counts the few live days
from the source rows.

When a day settles: `SETTLE_AFTER_DAYS` after it began. Behaviour events may carry a
client time up to a day old (tracking clamps them there) and are written up to a minute
late from the buffer, so a day's events are all in once the next day is over.

Guarantees:
- `settle(day)` writes, in the caller's transaction, that day's platform hour and province
  rows (the sums of the shops'), for the platform and each shop the sets of paying buyers
  and of the visitors at each funnel step, and the keyword counts, then marks the day.
  Running it again rewrites the same rows (its rows for the day are deleted first).
- `settle_due()` (hourly job) settles the unsettled days of the retention window (from the
  first day anything sold) up to the
  last settled-able day, newest first, at most MAX_PER_RUN a run (a backfill of a year
  takes a few hours), each in a transaction of its own.
- The readers give the same figures before and after a day settles: settled days from
  these rows, the others from the source rows, merged in Python.
- People are a signed-in user's id, else a hash of the anonymous id in the upper half of
  the key space, as the funnel always counted them. An anonymous visitor merged into their
  account after their day settled stays counted as the anonymous visitor on that day.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from pyroaring import BitMap64

from app.analytics.models import (
    BuyerDay,
    Event,
    HourSales,
    KeywordDay,
    PeopleDay,
    ProvinceSales,
    SalesDay,
    SettledDay,
)
from app.core import settings
from app.core.clock import SHANGHAI, utcnow
from app.core.db import transaction
from app.extensions import db

PLATFORM = 0
SETTLE_AFTER_DAYS = 2
MAX_PER_RUN = 62
ANONYMOUS = 1 << 63
# measure -> the event type it counts ("payers" comes from the buyer days)
FUNNEL_EVENTS = {"view": "page_view", "cart": "add_to_cart", "order": "order", "pay": "pay"}
MEASURES = ("payers", *FUNNEL_EVENTS)


def today() -> date:
    return utcnow().astimezone(SHANGHAI).date()


def last_settleable(on: date | None = None) -> date:
    return (on or today()) - timedelta(days=SETTLE_AFTER_DAYS)


def bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC instants a range of Shanghai days starts and ends at."""
    start = datetime.combine(first, time(), SHANGHAI)
    return start, datetime.combine(last + timedelta(days=1), time(), SHANGHAI)


def person(user_id: int | None, anon_id: str | None) -> int | None:
    if user_id is not None:
        return int(user_id)
    if anon_id:
        digest = int.from_bytes(hashlib.blake2b(anon_id.encode(), digest_size=8).digest(), "big")
        return ANONYMOUS | (digest & (ANONYMOUS - 1))
    return None


def settled_in(first: date, last: date) -> set[date]:
    return set(db.session.scalars(sa.select(SettledDay.day).where(SettledDay.day.between(first, last))))


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# --- the source rows --------------------------------------------------------------------------


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Days as runs of consecutive days (first, last): each run is read with two bounds."""
    runs: list[list[date]] = []
    for day in sorted(set(days)):
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(first, last) for first, last in runs]


def _funnel_events(days: Iterable[date], merchant_id: int | None = None):
    """(merchant_id, measure, person) of the funnel events of `days`, as the funnel counts them:
    product views only, and only events of someone; each distinct once per run of days."""
    measure_of = {event_type: measure for measure, event_type in FUNNEL_EVENTS.items()}
    out = []
    for first, last in _runs(days):
        start, end = bounds(first, last)
        where = [Event.type.in_(FUNNEL_EVENTS.values()), Event.created_at >= start, Event.created_at < end,
                 sa.or_(Event.user_id.is_not(None), Event.anon_id.is_not(None)),
                 sa.or_(Event.type != "page_view", Event.product_id.is_not(None))]
        if merchant_id is not None:
            where.append(Event.merchant_id == merchant_id)
        rows = db.session.execute(sa.select(Event.merchant_id, Event.type, Event.user_id, Event.anon_id)
                                  .where(*where).distinct())
        out += [(shop, measure_of[kind], person(user_id, anon_id)) for shop, kind, user_id, anon_id in rows]
    return out


def _payers(days: Iterable[date], merchant_id: int | None = None):
    days = list(days)
    if not days:
        return []
    where = [BuyerDay.day.in_(days)]
    if merchant_id is not None:
        where.append(BuyerDay.merchant_id == merchant_id)
    return [(shop, "payers", buyer) for shop, buyer in db.session.execute(
        sa.select(BuyerDay.merchant_id, BuyerDay.buyer_id).where(*where))]


def _searches(days: Iterable[date]) -> Counter:
    """(keyword, found nothing?) -> searches, for `days` (grouped by the database)."""
    counts: Counter = Counter()
    keyword = sa.func.lower(Event.query)
    found_nothing = Event.props["results"].as_string() == "0"
    for first, last in _runs(days):
        start, end = bounds(first, last)
        for query, empty, n in db.session.execute(
                sa.select(keyword, found_nothing, sa.func.count())
                .where(Event.type == "search", Event.created_at >= start, Event.created_at < end,
                       Event.query.is_not(None))
                .group_by(keyword, found_nothing)):
            counts[(query, bool(empty))] += int(n)
    return counts


# --- settling a day ---------------------------------------------------------------------------


def settle(day: date) -> None:
    """Write `day`'s settled rows and mark it (see the module's guarantees). Flushes only."""
    for model in (PeopleDay, KeywordDay):
        db.session.execute(sa.delete(model).where(model.day == day))
    for model in (HourSales, ProvinceSales):
        db.session.execute(sa.delete(model).where(model.day == day, model.scope_id == PLATFORM))
    db.session.execute(sa.insert(HourSales).from_select(
        ["scope_id", "day", "hour", "paid_orders"],
        sa.select(sa.literal(PLATFORM), HourSales.day, HourSales.hour, sa.func.sum(HourSales.paid_orders))
        .where(HourSales.day == day, HourSales.scope_id != PLATFORM).group_by(HourSales.day, HourSales.hour)))
    db.session.execute(sa.insert(ProvinceSales).from_select(
        ["scope_id", "day", "province", "paid_orders", "gmv_fen"],
        sa.select(sa.literal(PLATFORM), ProvinceSales.day, ProvinceSales.province,
                  sa.func.sum(ProvinceSales.paid_orders), sa.func.sum(ProvinceSales.gmv_fen))
        .where(ProvinceSales.day == day, ProvinceSales.scope_id != PLATFORM)
        .group_by(ProvinceSales.day, ProvinceSales.province)))
    sets: dict[tuple[int, str], BitMap64] = {}
    for shop, measure, key in [*_payers([day]), *_funnel_events([day])]:
        for scope in (PLATFORM, shop) if shop else (PLATFORM,):
            sets.setdefault((scope, measure), BitMap64()).add(key)
    if sets:
        db.session.execute(sa.insert(PeopleDay), [
            {"scope_id": scope, "measure": measure, "day": day, "people": len(members), "members": members.serialize()}
            for (scope, measure), members in sets.items()])
    keywords: dict[str, list[int]] = {}
    for (keyword, empty), n in _searches([day]).items():
        row = keywords.setdefault(keyword[:100], [0, 0])
        row[0] += n
        row[1] += n if empty else 0
    if keywords:
        db.session.execute(sa.insert(KeywordDay), [
            {"day": day, "keyword": keyword, "searches": n, "empty_searches": empty}
            for keyword, (n, empty) in keywords.items()])
    db.session.execute(sa.delete(SettledDay).where(SettledDay.day == day))
    db.session.add(SettledDay(day=day))
    db.session.flush()


def due_days(limit: int | None = MAX_PER_RUN) -> list[date]:
    """Unsettled days of the retention window that may settle now, newest first (the
    dashboards' usual ranges are recent: after a deployment they are fast first)."""
    last = last_settleable()
    first = today() - timedelta(days=settings.get("analytics_retention_days"))
    # Nothing before the first sale is worth keeping: days before it are read live (a few
    # days of browsing at most), and a new shop does not settle a year of empty days.
    first_sale = db.session.scalar(sa.select(sa.func.min(SalesDay.day)))
    first = max(first, first_sale or last + timedelta(days=1))
    done = settled_in(first, last)
    days = [day for day in reversed(_days(first, last)) if day not in done]
    return days if limit is None else days[:limit]


def settle_due(limit: int | None = MAX_PER_RUN) -> int:
    """Job (hourly): settle the due days, each in a transaction of its own. Returns how many."""
    with transaction():
        days = due_days(limit)
    for day in days:
        with transaction():
            settle(day)
    return len(days)


# --- reading ------------------------------------------------------------------------------------


def people_counts(first: date, last: date, merchant_id: int | None = None,
                  measures: Iterable[str] = MEASURES) -> dict[str, int]:
    """Distinct people per measure over the days `first`..`last`, for a shop or the platform."""
    measures = tuple(measures)
    scope = PLATFORM if merchant_id is None else merchant_id
    settled = settled_in(first, last)
    union = {measure: BitMap64() for measure in measures}
    for measure, members in db.session.execute(sa.select(PeopleDay.measure, PeopleDay.members).where(
            PeopleDay.scope_id == scope, PeopleDay.measure.in_(measures), PeopleDay.day.between(first, last))):
        union[measure] |= BitMap64.deserialize(members)
    live = [day for day in _days(first, last) if day not in settled]
    rows = []
    if "payers" in union:
        rows += _payers(live, merchant_id)
    if set(FUNNEL_EVENTS) & set(measures):
        rows += _funnel_events(live, merchant_id)
    for _shop, measure, key in rows:
        if measure in union:
            union[measure].add(key)
    return {measure: len(members) for measure, members in union.items()}


def keyword_counts(first: date, last: date) -> list[tuple[str, int, int]]:
    """(keyword, searches, searches that found nothing) over the range, every keyword."""
    settled = settled_in(first, last)
    totals: dict[str, list[int]] = {}
    for keyword, n, empty in db.session.execute(
            sa.select(KeywordDay.keyword, sa.func.sum(KeywordDay.searches), sa.func.sum(KeywordDay.empty_searches))
            .where(KeywordDay.day.between(first, last)).group_by(KeywordDay.keyword)):
        totals[keyword] = [int(n), int(empty)]
    for (keyword, empty), n in _searches(day for day in _days(first, last) if day not in settled).items():
        row = totals.setdefault(keyword[:100], [0, 0])
        row[0] += n
        row[1] += n if empty else 0
    return [(keyword, n, empty) for keyword, (n, empty) in totals.items()]


def scoped_rows(model, first: date, last: date, merchant_id: int | None):
    """The WHERE of an hour or province query: a shop's own rows; for the platform its own
    rows on settled days and the shops' rows on the others (each branch on an index)."""
    if merchant_id is not None:
        return sa.and_(model.scope_id == merchant_id, model.day.between(first, last))
    settled = settled_in(first, last)
    live = [day for day in _days(first, last) if day not in settled]
    settled_rows = sa.and_(model.scope_id == PLATFORM, model.day.between(first, last))
    if not live:
        return settled_rows
    return sa.or_(sa.and_(settled_rows, model.day.not_in(live)),
                  sa.and_(model.day.in_(live), model.scope_id != PLATFORM))
