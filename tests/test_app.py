"""The app shell: health, configuration, CLI commands, cron list, request logging."""
import logging

import pytest
import sqlalchemy as sa

from app import create_app
from app.accounts.models import User
from app.config import ProdConfig, TestConfig, normalise_database_url
from app.extensions import db


def test_healthz_reports_database_and_redis(client):
    body = client.get("/healthz").json
    assert body == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_healthz_reports_a_redis_outage_as_degraded_not_down(app, client, monkeypatch):
    """200: the node still serves without Redis, so a load balancer must keep it (tests/test_redis_outage.py)."""
    from redis import Redis

    monkeypatch.setattr(app.extensions["redis"], "client", Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2))
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.json["status"] == "degraded"
    assert resp.json["checks"]["redis"].startswith("error")


def test_plain_postgresql_urls_work_as_written():
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_production_refuses_the_default_secret_key(monkeypatch):
    monkeypatch.setattr(ProdConfig, "SECRET_KEY", "dev-secret-change-me")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProdConfig)


def test_production_cookies_are_secure():
    assert ProdConfig.SESSION_COOKIE_SECURE and ProdConfig.SESSION_COOKIE_HTTPONLY
    assert ProdConfig.SESSION_COOKIE_SAMESITE == "Lax"


def test_seed_demo_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    assert "13800000001" in second.output and "demo1234" in second.output
    # the nine demo logins, three regular customers (经常一起买's orders) and the segments' demo customers
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 9 + 3 + 16
    from app.merchants.models import Merchant, MerchantApplication

    assert db.session.scalar(sa.select(sa.func.count(Merchant.id))) == 3
    assert db.session.scalar(sa.select(sa.func.count(MerchantApplication.id))) == 1
    from app.catalog.models import Category, Product

    assert db.session.scalar(sa.select(sa.func.count(Product.id)).where(Product.status == "on_sale")) == 40
    assert db.session.scalar(sa.select(sa.func.count(Category.id))) == 44
    from app.orders.models import Order, Review

    statuses = dict(db.session.execute(sa.select(Order.status, sa.func.count()).group_by(Order.status)).all())
    # the after-sales demo adds four received orders and one refunded before shipping (closed);
    # 经常一起买 eighteen received ones (sixteen checkouts, two of them across two shops); the
    # segments' customers 32 more, received unless paid in the last five days
    assert statuses == {"pending_payment": 2, "paid": 1 + 6, "shipped": 1, "received": 6 + 18 + 26, "closed": 1}
    assert db.session.scalar(sa.select(sa.func.count(Review.id))) == 1
    from app.distribution.models import Commission

    # the demo shopper is bound to a sharer: each of the 9 paid orders earned him level-1 commission,
    # and the one refunded before shipping took it back
    assert db.session.scalars(sa.select(Commission.level)).all() == [1] * 9
    assert db.session.scalar(sa.select(sa.func.count(Commission.id)).where(Commission.status == "void")) == 1
    from app.aftersales.models import AfterSale

    requests = sorted(db.session.scalars(sa.select(AfterSale.status)).all())
    # the refund-only's money goes back by a queued job (the sandbox refunds when it runs)
    assert requests in (sorted(["pending", "awaiting_return", "returned", "disputed", "refunding"]),
                        sorted(["pending", "awaiting_return", "returned", "disputed", "refunded"]))
    from app.analytics.models import ProductRule, RuleRun

    # 经常一起买 computed at the default thresholds: rules for the platform and the fruit shop
    assert db.session.scalar(sa.select(RuleRun.rules).where(RuleRun.scope_id == 0)) > 0
    assert db.session.scalar(sa.select(sa.func.count(sa.distinct(ProductRule.scope_id)))) == 2

    from app.analytics.segments.models import Segment, SegmentRun

    # customer segments for the platform and 鲜果铺: the four kinds of demo customers, and the demo shopper
    runs = {run.scope_id: run for run in db.session.scalars(sa.select(SegmentRun))}
    fruit = db.session.scalar(sa.select(Merchant.id).where(Merchant.name == "鲜果铺"))
    # (and 经常一起买's three regular customers, who bought from 鲜果铺 too)
    assert runs[0].state == runs[fruit].state == "clustered" and runs[0].customers == runs[fruit].customers == 17 + 3
    names = set(db.session.scalars(sa.select(Segment.name).where(Segment.run_id == runs[fruit].id)))
    # (two segments of one kind are told apart by a note after the name, 高价值活跃（消费较高）)
    assert all(any(name.startswith(kind) for name in names) for kind in ("高价值活跃", "沉睡老客", "只逛不买", "新客"))


def test_create_admin(app):
    result = app.test_cli_runner().invoke(args=["create-admin", "--phone", "13811119999", "--password", "admin1234", "--role", "operator"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.phone == "+8613811119999"))
    assert user.admin_role == "operator"
    weak = app.test_cli_runner().invoke(args=["create-admin", "--phone", "13811118888", "--password", "weak"])
    assert weak.exit_code != 0


def test_cron_file_lists_the_periodic_jobs():
    from rq import cron

    import app.cron_jobs  # noqa: F401  (registers on import)

    names = {f"{d['func'].__module__}.{d['func'].__name__}" for d in cron._job_data_registry}
    assert "app.maintenance.tasks.purge_expired_codes" in names
    # the sweeps that finish what a Redis outage dropped
    assert {"app.notifications.tasks.resend_stuck_outbound", "app.inventory.alerts.sweep_unnotified_alerts",
            "app.payments.tasks.sweep_gateway_closes", "app.orders.tasks.sweep_unpaid",
            "app.payments.tasks.sweep_pending_payments", "app.payments.tasks.sweep_refunds"} <= names
    cron._job_data_registry.clear()


def test_purge_jobs_remove_only_old_rows(app):
    from datetime import timedelta

    from app.accounts.models import VerificationCode
    from app.core.clock import utcnow
    from app.maintenance.tasks import purge_expired_codes

    now = utcnow()
    db.session.add_all([
        VerificationCode(channel="sms", target="+8613800000000", purpose="login", code_hash="x", expires_at=now - timedelta(days=2)),
        VerificationCode(channel="sms", target="+8613800000000", purpose="login", code_hash="y", expires_at=now + timedelta(minutes=5)),
    ])
    db.session.commit()
    assert purge_expired_codes() == 1
    assert purge_expired_codes() == 0  # safe to run twice


def test_requests_are_logged_with_status_and_duration(client, caplog):
    logger = logging.getLogger("app.request")
    logger.addHandler(caplog.handler)
    try:
        client.get("/healthz")
    finally:
        logger.removeHandler(caplog.handler)
    record = next(r for r in caplog.records if r.name == "app.request")
    assert record.fields["path"] == "/healthz" and record.fields["status"] == 200 and record.fields["ms"] is not None


def test_branded_error_pages(client):
    resp = client.get("/no-such-page")
    assert resp.status_code == 404 and "页面不存在" in resp.get_data(as_text=True) and "返回首页" in resp.get_data(as_text=True)


def test_each_app_keeps_its_own_redis_client(app):
    other = create_app(TestConfigWithoutRedis)
    assert other.extensions["redis"].client is None
    assert app.extensions["redis"].client is not None


class TestConfigWithoutRedis(TestConfig):
    REDIS_URL = None


def test_the_site_icon_is_served_and_linked(client):
    import io
    import re

    from PIL import Image

    resp = client.get("/favicon.ico")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/x-icon"
    with Image.open(io.BytesIO(resp.data)) as icon:
        assert icon.format == "ICO" and (32, 32) in icon.info["sizes"]
        assert (255, 77, 46, 255) in {color for _n, color in icon.convert("RGBA").getcolors(4096)}  # brand vermilion
    for page in ("/", "/login", "/no-such-page"):
        link = re.search(r'<link rel="icon" href="([^"]+)"', client.get(page).get_data(as_text=True))
        assert link and client.get(link.group(1)).status_code == 200, page


def test_a_web_process_does_not_load_the_numeric_libraries():
    """scikit-learn, pandas and mlxtend load only in the jobs that cluster or mine: a web
    process (gunicorn's `wsgi:app`) starts without them, a second sooner and about 100 MB
    lighter. Run in a fresh interpreter: this one has them from other tests."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    probe = "import sys, wsgi; print(sorted(m for m in ('sklearn', 'pandas', 'mlxtend') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=Path(__file__).resolve().parents[1],
                          env={**os.environ, "APP_ENV": "testing"}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
