"""The RQ worker process: jobs run inside an app context and a unit of work of
their own, and the database engine is disposed in each forked work horse so no
connection is shared."""
from __future__ import annotations

from flask import current_app
from rq import SimpleWorker, Worker
from rq.job import Job

from app.core.db import transaction
from app.core.jobs import QUEUE_NAMES, get_redis
from app.extensions import db


class UnitOfWorkJob(Job):
    """A job whose function runs in a unit of work of its own (committed when it
    returns, rolled back when it raises), as inline jobs do: `app.core.db.run_in_unit_of_work`."""

    def _execute(self):
        with transaction():
            return super()._execute()


class AppContextMixin:
    """Runs every job inside the Flask app context of the process that started it."""

    flask_app = None
    job_class = UnitOfWorkJob

    def perform_job(self, job, queue, *args, **kwargs):
        with self.flask_app.app_context():
            try:
                return super().perform_job(job, queue, *args, **kwargs)
            finally:
                db.session.remove()


class AppSimpleWorker(AppContextMixin, SimpleWorker):
    """Runs jobs in this process (tests, and `flask worker --burst` for debugging)."""


class AppWorker(AppContextMixin, Worker):
    """Forks a work horse per job, as production runs."""

    def main_work_horse(self, job, queue, *args, **kwargs):
        # A forked child must not reuse the parent's pooled connections.
        with self.flask_app.app_context():
            db.engine.dispose(close=False)
        return super().main_work_horse(job, queue, *args, **kwargs)


def run_worker(burst: bool = False, with_scheduler: bool = True) -> None:
    app = current_app._get_current_object()
    redis = get_redis()
    if redis is None:
        raise SystemExit("REDIS_URL is not set: the embedded default runs jobs inline, no worker needed")
    worker = AppWorker(list(QUEUE_NAMES), connection=redis)
    worker.flask_app = app
    worker.work(burst=burst, with_scheduler=with_scheduler)
