"""Shared by the benches that drive a real server: a gunicorn started on a free port with
given settings, waited for until it answers, and stopped again."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.flash_sale import free_port

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Served:
    url: str  # the base URL
    pid: int  # gunicorn's master: its children are the workers (bench.flash_sale.worker_pids)


@contextmanager
def gunicorn(app_path: str, *, workers: int, threads: int, env: dict | None = None, ready_path: str = "/"):
    """Yield `Served` for `gunicorn app_path` (gthread workers) once `ready_path`
    answers 200 on every worker thread; stopped on the way out."""
    port = free_port()
    command = [str(Path(sys.executable).with_name("gunicorn")), "--worker-class", "gthread",
               "--workers", str(workers), "--threads", str(threads), "--bind", f"127.0.0.1:{port}",
               "--log-level", "warning", "--graceful-timeout", "5", app_path]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn {app_path} exited at start")
            try:
                if requests.get(base + ready_path, timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {app_path} did not answer within 30 s")
            time.sleep(0.1)  # polling a starting server: there is no event to wait on
        for _ in range(workers * threads * 2):  # every worker imports the app lazily: warm them all
            requests.get(base + ready_path, timeout=10)
        yield Served(base, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
