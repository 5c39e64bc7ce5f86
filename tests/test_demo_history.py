"""The demo's months of history (app/demo_history.py), on a short span: orders on many
past days through the real services, with refunds, commissions and behaviour around
them; the dashboards, settled days and segments' inputs populated; seeded once."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.accounts.models import User
from app.analytics import figures, settled_days
from app.analytics.models import Event, SalesDay
from app.core.clock import SHANGHAI
from app.distribution.models import Commission
from app.extensions import db
from app.orders.models import Order
from app.payments.models import Refund

DAYS = 12


def test_a_short_history_fills_the_dashboards_once(app, monkeypatch, run_jobs):
    monkeypatch.setitem(app.config, "DEMO_HISTORY_DAYS", DAYS)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    run_jobs()  # the platform's refunds (jobs run in the worker here, inline in the embedded default)

    customers = db.session.scalar(sa.select(sa.func.count(User.id)).where(User.nickname.like("历史顾客%")))
    browsers = db.session.scalar(sa.select(sa.func.count(User.id)).where(User.nickname.like("逛逛%")))
    assert (customers, browsers) == (30, 8)
    history = sa.select(Order).join(User, User.id == Order.buyer_id).where(User.nickname.like("历史顾客%"))
    orders = db.session.scalars(history).all()
    today = settled_days.today()
    paid_days = {o.paid_at.astimezone(SHANGHAI).date() for o in orders if o.paid_at}
    # many past days, none in the future, none older than the span
    assert len(paid_days) >= 6
    assert min(paid_days) >= today - timedelta(days=DAYS) and max(paid_days) < today
    statuses = {o.status for o in orders}
    assert "received" in statuses
    # the rollups counted them on their own days
    rollup_days = set(db.session.scalars(sa.select(SalesDay.day).where(SalesDay.day < today, SalesDay.paid_orders > 0)))
    assert paid_days <= rollup_days
    # a third of the customers came through the sharer's link: their orders earned commission
    assert db.session.scalar(sa.select(sa.func.count(Commission.id)).where(
        Commission.order_id.in_([o.id for o in orders]))) > 0
    refunded = [o for o in orders if o.refunded_fen]
    refunds = db.session.scalars(sa.select(Refund.status).where(Refund.order_id.in_([o.id for o in orders]))).all()
    assert all(status == "succeeded" for status in refunds) and len(refunds) == len(refunded)
    # behaviour around them: views, carts, searches, some that found nothing
    types = dict(db.session.execute(sa.select(Event.type, sa.func.count()).group_by(Event.type)).all())
    assert types["page_view"] > types["add_to_cart"] > 0 and types["search"] > 0
    # the dashboards have something to draw, and the days before yesterday settled
    first = today - timedelta(days=DAYS)
    platform = figures.for_days(first, today)
    assert platform.paid_orders > 10 and platform.paying_buyers > 5 and platform.gmv_fen > 0
    steps = {s["step"]: s["visitors"] for s in figures.funnel(first, today)}
    assert steps["view"] > steps["cart"] > 0 and steps["pay"] > 0
    assert figures.search_keywords(first, today)["no_results"]
    assert settled_days.settled_in(first, today - timedelta(days=2)) and not settled_days.due_days()

    # seeded once
    count = len(orders)
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert len(db.session.scalars(history).all()) == count
