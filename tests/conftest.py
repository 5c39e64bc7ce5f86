"""Test fixtures: real PostgreSQL and Redis, schema built once from the
migrations, each test inside a transaction that is rolled back, a real RQ
worker for jobs, and the console outbox for reading SMS and mail."""
from __future__ import annotations

import json
import os
import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g
from flask.globals import _cv_app, _cv_request
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FSASession

from app import create_app
from app.config import TestConfig
from app.extensions import db
from tests.finance.books import assert_books_hold

pytest_plugins = ["tests.factories", "tests.redis_server"]


class BoundSession(FSASession):
    """A session given an explicit `bind` uses that connection for every table,
    so a whole test runs inside one outer transaction that is rolled back."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and self.bind is not None:
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def pytest_configure(config):
    config.addinivalue_line("markers", "live_db: the test commits for real (threads, live server); tables are emptied after it")
    config.addinivalue_line("markers", "books_unchecked(reason): the test makes money rows by hand, not through the "
                                       "services, so the books are not expected to agree with them")


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    base = tmp_path_factory.mktemp("instance")
    app = create_app(TestConfig, OUTBOX_DIR=str(base / "outbox"), UPLOAD_DIR=str(base / "uploads"),
                     REPORT_DIR=str(base / "reports"))
    with app.app_context():
        engine = db.engine
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        db.session.remove()

    @app.teardown_request
    def _close_request_session(exc):
        # The test's app context outlives requests; in production every request
        # has its own, so close the request's session and forget its `g` here.
        db.session.remove()
        for name in list(g):
            g.pop(name, None)

    return app


def _request_or_app_scope():
    """One session per test-client request, as in production (where every
    request has its own app context), and one for the test code itself."""
    ctx = _cv_request.get(None)
    return ("request", id(ctx)) if ctx is not None else ("app", id(_cv_app.get(None)))


def _truncate_all() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        # A lock held by a connection some test left open fails the test in 30 s
        # rather than stopping the whole run.
        conn.execute(sa.text("SET LOCAL lock_timeout = '30s'"))
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(autouse=True)
def _database(request, app):
    """Bind every session to one connection and roll it back after the test.
    Tests marked `live_db` commit for real and get empty tables afterwards."""
    ctx = app.app_context()
    ctx.push()
    if request.node.get_closest_marker("live_db"):
        try:
            yield
        finally:
            db.session.remove()
            _truncate_all()
            ctx.pop()
        return
    conn = db.engine.connect()
    outer = conn.begin()
    original = db.session
    db.session = db._make_scoped_session({
        "bind": conn, "join_transaction_mode": "create_savepoint", "class_": BoundSession,
        "scopefunc": _request_or_app_scope,
    })
    try:
        yield
    finally:
        # Every step runs even when one before it raises: a connection left open here
        # would hold the test's row locks idle in transaction, and the next `live_db`
        # test's TRUNCATE would wait on them for ever instead of failing.
        try:
            db.session.remove()
        finally:
            db.session = original
            try:
                outer.rollback()
            except Exception:
                conn.invalidate()  # the server ends the transaction with the connection
                raise
            finally:
                conn.close()
                ctx.pop()


@pytest.fixture(autouse=True)
def _redis(app):
    """An empty test Redis database for every test (queues, rate limits), and no page or
    search event held in process from an earlier test (app/web/shop/page_copies.py)."""
    client = app.extensions["redis"].client
    app.extensions["held_searches"].push_now()  # an earlier test's, before the flush
    client.flushdb()
    app.extensions["page_copies"].forget()
    yield client
    client.flushdb()


@pytest.fixture
def redis_client(_redis):
    return _redis


@pytest.fixture(autouse=True)
def outbox(app, tmp_path, monkeypatch):
    """A fresh console outbox per test, with readers for what was sent."""
    monkeypatch.setitem(app.config, "OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setitem(app.config, "REPORT_DIR", str(tmp_path / "reports"))
    return Outbox(tmp_path / "outbox")


class Outbox:
    def __init__(self, path: Path) -> None:
        self.path = path

    def sms(self) -> list[dict]:
        file = self.path / "sms.jsonl"
        if not file.exists():
            return []
        return [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line]

    def last_code(self, phone: str) -> str:
        """The code in the latest SMS to `phone` (11 digits or +86...)."""
        target = phone if phone.startswith("+") else "+86" + phone
        for line in reversed(self.sms()):
            if line["to"] == target and "code" in line["params"]:
                return line["params"]["code"]
        raise AssertionError(f"no SMS code sent to {phone}")

    def mails(self) -> list:
        folder = self.path / "mail"
        if not folder.exists():
            return []
        return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(folder.glob("*.eml"))]

    def last_link(self, email: str) -> str:
        for message in reversed(self.mails()):
            if message["To"] == email:
                text = message.get_body(("plain",)).get_content()
                match = re.search(r"https?://\S+", text)
                if match:
                    return match.group(0)
        raise AssertionError(f"no mail with a link sent to {email}")


@pytest.fixture
def run_jobs(app):
    """Run every queued job with a real RQ worker (burst mode, in this process)."""
    from app.core.jobs import QUEUE_NAMES
    from app.worker import AppSimpleWorker

    class CountingWorker(AppSimpleWorker):
        ran = 0

        def perform_job(self, *args, **kwargs):
            self.ran += 1
            return super().perform_job(*args, **kwargs)

    def run() -> int:
        """Returns how many job executions the worker performed."""
        # End the test session's savepoint first: the jobs' own sessions nest in the
        # same connection, and a later rollback in the test must not undo their commits.
        db.session.commit()
        client = app.extensions["redis"].client
        worker = CountingWorker(list(QUEUE_NAMES), connection=client)
        worker.flask_app = app
        worker.work(burst=True, with_scheduler=True, logging_level="WARNING")
        return worker.ran

    return run


@pytest.fixture
def server(app, tmp_path):
    """The app served on a random local port by a threaded werkzeug server, for races
    over real HTTP (tests using it commit for real: mark them `live_db`). Yields its URL."""
    import threading

    from werkzeug.serving import make_server

    live = create_app(TestConfig, RATELIMIT_ENABLED=False, OUTBOX_DIR=str(tmp_path / "outbox"),
                      UPLOAD_DIR=str(tmp_path / "uploads"), REPORT_DIR=str(tmp_path / "reports"))
    httpd = make_server("127.0.0.1", 0, live, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="race-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()
        with live.app_context():
            db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def count_queries():
    """Count the SQL statements run inside a `with count_queries() as counter:` block."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        statements: list[str] = []

        def before(conn, cursor, statement, parameters, context, executemany):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
                statements.append(statement)

        engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            sa.event.remove(engine, "before_cursor_execute", before)

    return counting


def pytest_report_header(config):
    return [f"database: {TestConfig.SQLALCHEMY_DATABASE_URI}", f"redis: {TestConfig.REDIS_URL}",
            f"CI: {os.environ.get('CI', 'no')}"]


@pytest.fixture
def books_hold(request):
    """After the test: the books agree with the business tables (tests/finance/books.py).
    The money-moving directories use it for every test (their conftest.py)."""
    yield
    if request.node.get_closest_marker("live_db") or request.node.get_closest_marker("books_unchecked"):
        return
    assert_books_hold()
