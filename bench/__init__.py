"""Benchmarks (`make bench`). They use a database and a Redis db of their own, never the
tests': a bench drops its schema and flushes its Redis db, so it must not share them with
a test run (whose TEST_DATABASE_URL / TEST_REDIS_URL may be set in the same shell)."""
from __future__ import annotations

import os

BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/shop_bench")
# Not 15 or 14: the test run's pytest-xdist workers count down from 15 (tests/xdist_env.py).
BENCH_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")

# The server the benches start: the Procfile's defaults (WEB_CONCURRENCY workers x
# WEB_THREADS threads, gthread), so what is measured is what is deployed.
WORKERS = int(os.environ.get("WEB_CONCURRENCY", 2))
THREADS = int(os.environ.get("WEB_THREADS", 4))
