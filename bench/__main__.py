"""Run every benchmark: `make bench` (or `python -m bench`).

Each benchmark measures two things in the same run and prints their ratio,
so the number means something on any machine. Uses its own PostgreSQL
database (BENCH_DATABASE_URL, default shop_bench) and Redis db (BENCH_REDIS_URL, default 12).
"""
from __future__ import annotations

import logging
import os
import statistics
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import sqlalchemy as sa

from bench import BENCH_DB, BENCH_REDIS

# The app's TestConfig reads these: point them at the bench's own, whatever the shell says.
os.environ["TEST_DATABASE_URL"] = BENCH_DB
os.environ["TEST_REDIS_URL"] = BENCH_REDIS

from flask_migrate import upgrade

from app import create_app
from app.config import TestConfig
from app.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def ensure_database(url: str) -> None:
    parsed = urlparse(url.replace("+psycopg", ""))
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def timed(fn, repeat: int) -> float:
    """Median seconds per call over `repeat` calls (after one warm-up)."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    ensure_database(os.environ["TEST_DATABASE_URL"])
    app = create_app(TestConfig, RATELIMIT_ENABLED=False)
    logging.getLogger("app.request").setLevel(logging.WARNING)  # one line per request would drown the table
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        upgrade(directory=str(ROOT / "migrations"))
        app.extensions["redis"].client.flushdb()
        from bench import accounts_bench, catalog_bench, dashboard_bench

        results = accounts_bench.run(app, timed) + catalog_bench.run(app, timed) + dashboard_bench.run(app, timed)
    from bench import flash_sale

    flash_rows, flash_problems = flash_sale.run()  # its own scratch database and a gunicorn server
    results += flash_rows
    from bench import storefront

    results += storefront.run()  # its own scratch database, a hello world and the shop under gunicorn
    print(f"{'benchmark':<58} {'a':>10} {'b':>10} {'b/a':>8}")
    for name, a, b, unit in results:
        print(f"{name:<58} {a:>9.2f}{unit} {b:>9.2f}{unit} {b / a:>8.2f}")
    if flash_problems:  # oversold units, 5xx, unanswered buyers, rows that disagree
        raise SystemExit("flash sale: " + "; ".join(flash_problems))


if __name__ == "__main__":
    main()
