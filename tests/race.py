"""Races for the concurrency tests: real threads released together by a barrier."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from app.extensions import db


def at_once(n: int, work: Callable[[int], Any], app=None, timeout: float = 90) -> list:
    """Run `work(i)` for i in 0..n-1, each in its own thread, all released together.

    With `app`, each thread has its own app context and database session (removed
    afterwards), as concurrent requests or jobs would. Returns what each call returned
    or raised, in order, and fails when a thread is still running after `timeout`."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        context = app.app_context() if app is not None else None
        if context is not None:
            context.push()
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # collected and asserted on by the test
            results[i] = exc
        finally:
            if context is not None:
                db.session.remove()
                context.pop()

    threads = [threading.Thread(target=run, args=(i,), name=f"race-{i}") for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a racing thread hung"
    return results
