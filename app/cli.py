"""Flask CLI commands: demo data, the first admin, the RQ worker and cron, the sales rollups."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from rq.cron import CronScheduler

from app.accounts.admin_setup import create_admin
from app.analytics import rollups, settled_days
from app.analytics.tasks import recompute_rules
from app.core.db import transaction
from app.core.jobs import get_redis
from app.demo import seed_demo
from app.finance.cli import finance_cli
from app.worker import run_worker


def register_cli(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Create the demo data (idempotent) and print the demo logins."""
        logins = seed_demo()
        click.echo("演示账号 / Demo logins (password for all: see below)")
        for role, account, password in logins:
            click.echo(f"  {role:<10} {account:<24} {password}")

    @app.cli.command("create-admin")
    @click.option("--phone", default=None, help="mainland mobile number")
    @click.option("--email", default=None)
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option("--role", type=click.Choice(["super", "operator", "finance"]), default="super")
    def create_admin_command(phone, email, password, role) -> None:
        """Create (or promote) an admin account."""
        with transaction():
            user = create_admin(phone=phone, email=email, password=password, role=role)
        click.echo(f"admin #{user.id} ({role}) ready: {user.phone or user.email}")

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="exit when the queues are empty")
    @click.option("--no-scheduler", is_flag=True)
    def worker_command(burst: bool, no_scheduler: bool) -> None:
        """Run an RQ worker (with scheduler) inside the app context."""
        run_worker(burst=burst, with_scheduler=not no_scheduler)

    analytics = AppGroup("analytics", help="Sales rollups and figures.")

    @analytics.command("rebuild")
    def analytics_rebuild_command() -> None:
        """Recount the sales rollups from every paid order and confirmed refund."""
        with transaction():
            orders, refunds = rollups.rebuild()
        days = settled_days.settle_due(limit=None)
        click.echo(f"rollups rebuilt: {orders} paid orders, {refunds} refunds; {days} days settled")

    @analytics.command("rules")
    def analytics_rules_command() -> None:
        """Recompute the products bought together (经常一起买) of the platform and every shop."""
        with transaction():
            kept = recompute_rules()
        click.echo(f"association rules recomputed: {kept} kept")

    app.cli.add_command(analytics)
    app.cli.add_command(finance_cli)

    @app.cli.command("cron")
    def cron_command() -> None:
        """Run RQ cron with the periodic jobs listed in app/cron_jobs.py."""
        if get_redis() is None:
            raise click.ClickException("REDIS_URL is not set: periodic jobs need Redis")
        scheduler = CronScheduler(connection=get_redis(), name="shop-cron")
        scheduler.load_config_from_file("app/cron_jobs.py")
        current_app.logger.info("cron: %d periodic jobs", len(scheduler.get_jobs()))
        scheduler.start()
