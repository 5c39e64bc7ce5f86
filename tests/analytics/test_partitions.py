"""Behaviour events partitioned by month on PostgreSQL (app/analytics/partitions.py)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from app.analytics import partitions, tracking
from app.analytics.models import Event
from app.core.clock import utcnow
from app.core.db import transaction
from app.extensions import db


def where_rows_live() -> dict[str, int]:
    rows = db.session.execute(sa.text(
        "SELECT tableoid::regclass::text, count(*) FROM events GROUP BY 1")).all()
    return dict(rows)


def at(year: int, month: int, day: int = 15) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


def test_the_events_table_has_this_month_the_next_ones_and_a_default():
    connection = db.session.connection()
    assert partitions.is_partitioned(connection)
    this_month = partitions.month_start(utcnow().date())
    wanted = {partitions.partition_name(this_month), partitions.DEFAULT}
    first = this_month
    for _ in range(partitions.MONTHS_AHEAD):
        first = partitions.next_month(first)
        wanted.add(partitions.partition_name(first))
    assert wanted <= partitions.existing(connection)
    # The daily job finds nothing to do.
    assert partitions.maintain_event_partitions() == []


def test_an_event_lands_in_its_months_partition():
    now = utcnow()
    db.session.add(Event(type="page_view", created_at=now, props={}))
    db.session.flush()
    assert where_rows_live() == {partitions.partition_name(partitions.month_start(now.date())): 1}


def test_a_month_created_late_takes_its_rows_out_of_the_default():
    db.session.add_all([Event(type="page_view", created_at=at(2019, 3, d), path=f"/{d}") for d in (1, 15, 31)]
                       + [Event(type="page_view", created_at=at(2019, 4, 1), path="/april")])
    db.session.flush()
    assert where_rows_live() == {"events_default": 4}
    created = partitions.ensure_partitions(today=date(2019, 3, 20), since=date(2019, 3, 1))
    assert created == ["events_p201903", "events_p201904", "events_p201905"]
    assert where_rows_live() == {"events_p201903": 3, "events_p201904": 1}
    # Every row is still there once, read through the parent table.
    assert sorted(db.session.scalars(sa.select(Event.path))) == ["/1", "/15", "/31", "/april"]
    assert partitions.DEFAULT in partitions.existing(db.session.connection())
    # A second run creates nothing and moves nothing.
    assert partitions.ensure_partitions(today=date(2019, 3, 20), since=date(2019, 3, 1)) == []


def test_retention_drops_whole_old_months_and_deletes_the_rest_row_by_row():
    now = utcnow()
    old_month = partitions.month_start((now - timedelta(days=500)).date())
    partitions.ensure_partitions(today=old_month, since=old_month)
    old_name = partitions.partition_name(old_month)
    with transaction():
        db.session.add_all([
            Event(type="page_view", created_at=at(old_month.year, old_month.month, 10), path="/old-month"),
            Event(type="page_view", created_at=now - timedelta(days=401), path="/just-past"),
            Event(type="page_view", created_at=now - timedelta(days=399), path="/kept"),
            Event(type="page_view", created_at=now, path="/today"),
        ])
    assert old_name in where_rows_live()
    # One row deleted one by one (401 days, in the default or a straddling month); the old
    # month went with its partition.
    assert tracking.purge_old_events() == 1
    assert old_name not in partitions.existing(db.session.connection())
    assert sorted(db.session.scalars(sa.select(Event.path))) == ["/kept", "/today"]
