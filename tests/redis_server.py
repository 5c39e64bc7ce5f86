"""A redis-server of the test's own, for fault drills: started on a free port,
awaited until it answers PING, killed (SIGKILL, as a crash) or frozen (SIGSTOP,
as a hung host) when the test says, and always stopped afterwards.

It keeps nothing on disk (`--save ""`, `--appendonly no`), so a restart comes
back empty, as a Redis that lost its memory does."""
from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import RedisError

START_TIMEOUT_SECONDS = 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.binary = binary
        self.workdir = workdir
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> RedisServer:
        """Start (or restart, on the same port so clients reconnect) and wait until it answers."""
        assert not self.running, "already running"
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        probe = Redis(port=self.port, socket_connect_timeout=0.2, socket_timeout=0.2, retry=None)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        try:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server exited with {self.process.returncode} (port {self.port} taken?)")
                try:
                    if probe.ping():
                        return self
                except RedisError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server on port {self.port} did not answer within {START_TIMEOUT_SECONDS} s")
                time.sleep(0.01)  # between polls of a condition, not a guess at how long start-up takes
        finally:
            probe.close()

    def kill(self) -> None:
        """Crash it: SIGKILL, and wait until the process is gone (its port refuses at once)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a frozen server must be able to die
            self.process.kill()
        self.process.wait(timeout=START_TIMEOUT_SECONDS)
        self.process = None

    def freeze(self) -> None:
        """Hang it (SIGSTOP): connections are accepted by the kernel but never answered."""
        assert self.running
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.running
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture
def redis_server(tmp_path):
    """A running redis-server of this test's own; `.kill()`, `.start()`, `.freeze()` as the drill needs."""
    workdir = tmp_path / "redis"
    workdir.mkdir()
    server = RedisServer(workdir).start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def app_on(app, outbox):
    """`app_on(server, **config)`: the app as production builds it, pointed at `server`
    for its jobs and rate limits (same database session as the test, same outbox)."""
    from app import create_app
    from app.config import TestConfig
    from app.extensions import limiter

    made = []

    def make(server: RedisServer, **overrides):
        url = server.url()
        # Searches held for this app are kept at the end of the test, in its own thread:
        # with `server` stopped they are written to PostgreSQL, and the held batch's timer
        # thread would write them on the test's one connection while the test uses it.
        overrides.setdefault("HELD_SEARCH_SECONDS", 3600)
        new = create_app(TestConfig, REDIS_URL=url, RATELIMIT_STORAGE_URI=url, OUTBOX_DIR=str(outbox.path),
                         UPLOAD_DIR=app.config["UPLOAD_DIR"], **overrides)
        made.append(new)
        return new

    try:
        yield make
    finally:
        for other in made:
            other.extensions["held_searches"].push_now()
            other.extensions["redis"].client.close()
        # Flask-Limiter keeps one storage per Limiter object, so the last app bound wins:
        # give the session app's storage back to the process-wide limiter.
        limiter.init_app(app)


def drain(app) -> int:
    """Run every job queued in `app`'s Redis with a real RQ worker (burst), as the
    `run_jobs` fixture does for the session app. Returns how many jobs ran."""
    from app.core.jobs import QUEUE_NAMES
    from app.extensions import db
    from app.worker import AppSimpleWorker

    class CountingWorker(AppSimpleWorker):
        ran = 0

        def perform_job(self, *args, **kwargs):
            self.ran += 1
            return super().perform_job(*args, **kwargs)

    db.session.commit()  # end the test's savepoint: the jobs' own commits must survive its rollback
    # A client of its own, as the worker process has: RQ raises its socket timeout above the
    # blocking dequeue, which must not leak into the web client's short one.
    connection = Redis.from_url(app.config["REDIS_URL"])
    try:
        worker = CountingWorker(list(QUEUE_NAMES), connection=connection)
        worker.flask_app = app
        worker.work(burst=True, with_scheduler=True, logging_level="WARNING")
    finally:
        connection.close()
    return worker.ran
