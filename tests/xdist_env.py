"""Each pytest-xdist worker gets a database and a Redis db of its own.

Loaded with `-p tests.xdist_env` (pytest.ini) so it runs before the conftest imports
the app (whose TestConfig reads the environment). In a worker (`PYTEST_XDIST_WORKER`
is gw0, gw1, ...) the test database's name gets the worker's name appended and is
created when missing; the Redis db counts down from the one configured (15, 14, ...).
Without xdist nothing changes."""
from __future__ import annotations

import os
from urllib.parse import urlparse

import psycopg
from psycopg import sql

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/shop_test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"


def _own_database(url: str, worker: str) -> str:
    mine = f"{url}_{worker}"
    parts = urlparse(mine)
    admin = parts._replace(path="/postgres").geturl().replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        name = parts.path.lstrip("/")
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        # A throwaway database: a commit need not wait for the disk (1-2 ms each here).
        conn.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(name)))
    return mine


def _own_redis(url: str, index: int) -> str:
    prefix, _, number = url.rpartition("/")
    return f"{prefix}/{int(number) - index}"


_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker:
    os.environ["TEST_DATABASE_URL"] = _own_database(os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE), _worker)
    os.environ["TEST_REDIS_URL"] = _own_redis(os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS),
                                              int(_worker.removeprefix("gw")))
