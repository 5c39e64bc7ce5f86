"""Events held in the web process for a moment and kept together: one push to the
analytics buffer for many events instead of one each.

Used for the searches answered from the storefront's page copies
(app/web/shop/page_copies.py): such an answer costs a few µs of CPU, and pushing its search
event to Redis on its own (one round trip through redis-py) about 150 µs more, most of
the answer.

What it guarantees:

- Every event added is kept once (`tracking.keep_rows`: the Redis buffer, or written in a
  transaction of its own when Redis is unreachable or jobs run inline), in the order added.
- At most `seconds` late: a timer started by the first event of a batch pushes it, or the
  event that makes it `most` long, whichever comes first.
- A clean exit of the process pushes what is held (atexit). A process killed outright
  loses what it held, at most `seconds` of searches: these are behaviour counts, not money.
"""
from __future__ import annotations

import atexit
import logging
import threading

from flask import Flask

from app.analytics import tracking

log = logging.getLogger(__name__)


class HeldEvents:
    def __init__(self, app: Flask, *, seconds: float, most: int) -> None:
        self.app = app
        self.seconds = seconds
        self.most = most
        self.rows: list[dict] = []
        self.timer: threading.Timer | None = None
        self.lock = threading.Lock()  # guards rows and timer
        self.pushing = threading.Lock()  # one push at a time: `push_now` returns with nothing in flight
        atexit.register(self.push_now)

    def add(self, row: dict) -> None:
        with self.lock:
            self.rows.append(row)
            full = len(self.rows) >= self.most
            if not full and self.timer is None:
                self.timer = threading.Timer(self.seconds, self.push_now)
                self.timer.daemon = True
                self.timer.start()
        if full:
            self.push_now()

    def push_now(self) -> None:
        """Keep everything held now (the timer, a full batch, process exit, tests)."""
        with self.pushing:
            with self.lock:
                rows, self.rows = self.rows, []
                if self.timer is not None:
                    self.timer.cancel()
                    self.timer = None
            if not rows:
                return
            try:
                with self.app.app_context():
                    tracking.keep_rows(rows)
            except Exception:  # a thread of its own: nobody above to tell but the log
                log.exception("held analytics events lost: %d", len(rows))
