"""Check that the test PostgreSQL and Redis answer, and create the test
database when it is missing. Says exactly what is wrong when they do not."""
from __future__ import annotations

import os
import sys
from urllib.parse import urlparse

DB_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/shop_test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def check_postgres() -> str | None:
    import psycopg

    parsed = urlparse(DB_URL)
    name = parsed.path.lstrip("/")
    admin_url = parsed._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(admin_url, connect_timeout=5, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
                print(f"created test database {name}")
    except Exception as exc:
        return (f"PostgreSQL does not answer at {parsed.hostname}:{parsed.port or 5432} ({exc}).\n"
                "  Start it (e.g. `pg_ctlcluster 15 main start`) or set TEST_DATABASE_URL.")
    return None


def check_redis() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:
        return (f"Redis does not answer at {REDIS_URL} ({exc}).\n"
                "  Start it (e.g. `redis-server --daemonize yes`) or set TEST_REDIS_URL.")
    return None


def main() -> int:
    problems = [p for p in (check_postgres(), check_redis()) if p]
    for problem in problems:
        print(f"MISSING: {problem}", file=sys.stderr)
    if not problems:
        print("PostgreSQL and Redis answer")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
