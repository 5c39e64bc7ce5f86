"""Admin dashboard: today's figures for what exists so far."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import render_template

from app.accounts.models import User
from app.accounts.states import UserStatus
from app.core.clock import SHANGHAI, utcnow
from app.extensions import db
from app.notifications import queries as outbound_queries
from app.web.admin.blueprint import bp
from app.web.auth import admin_required


def _start_of_local_day(days_ago: int = 0):
    local = utcnow().astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    return local - timedelta(days=days_ago)


@bp.get("/")
@admin_required()
def dashboard():
    today, yesterday = _start_of_local_day(0), _start_of_local_day(1)
    counts = db.session.execute(sa.select(
        sa.func.count(User.id),
        sa.func.count(User.id).filter(User.created_at >= today),
        sa.func.count(User.id).filter(User.created_at >= yesterday, User.created_at < today),
        sa.func.count(User.id).filter(User.status == UserStatus.BANNED),
    )).one()
    failed = outbound_queries.failed_count()
    # Registrations per day for the last 14 days, for the chart.
    since = _start_of_local_day(13)
    rows = db.session.execute(sa.select(User.created_at).where(User.created_at >= since)).scalars().all()
    per_day = {(since + timedelta(days=i)).strftime("%m-%d"): 0 for i in range(14)}
    for created in rows:
        key = created.astimezone(SHANGHAI).strftime("%m-%d")
        if key in per_day:
            per_day[key] += 1
    return render_template(
        "admin/dashboard.html",
        users_total=counts[0], users_today=counts[1], users_yesterday=counts[2], users_banned=counts[3],
        failed_messages=failed or 0, chart_days=list(per_day.keys()), chart_counts=list(per_day.values()),
    )


@bp.get("/nav/badges")
@admin_required()
def nav_badges():
    """The sidebar's queue counts, out of band (the sidebar asks after each write: see
    app.core.htmx.announce_queues_changed); only the queues this admin may see."""
    return render_template("admin/_sidebar.html", nav_badges_oob=True)
