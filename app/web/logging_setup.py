"""Structured request logging: one JSON line per request with method, path,
status, duration, user and request id."""
from __future__ import annotations

import json
import logging
import secrets
import sys
import time

from flask import Flask, g, request


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"level": record.levelname, "logger": record.name, "msg": record.getMessage()}
        data.update(getattr(record, "fields", {}))
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


REQUEST_LOG = logging.getLogger("app.request")


def log_request(fields: dict) -> None:
    """One line for one answered request (also used by answers made before Flask:
    app/web/shop/page_copies.py)."""
    if REQUEST_LOG.isEnabledFor(logging.INFO):
        # The record made directly: `log.info` would first walk the stack for the
        # caller's file and line, which no formatter here prints.
        REQUEST_LOG.handle(REQUEST_LOG.makeRecord(REQUEST_LOG.name, logging.INFO, "", 0,
                                                  " ".join(f"{k}={v}" for k, v in fields.items()),
                                                  (), None, extra={"fields": fields}))


def init_app(app: Flask) -> None:
    log = REQUEST_LOG
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter() if app.config.get("LOG_JSON") else logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()
        g.request_id = request.headers.get("X-Request-Id") or secrets.token_hex(8)

    @app.after_request
    def _log_request(response):
        if request.path.startswith("/static/"):
            return response
        started = g.get("request_started")
        fields = {
            "request_id": g.get("request_id"),
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "user_id": g.get("log_user_id"),
            "ip": request.remote_addr,
        }
        response.headers["X-Request-Id"] = fields["request_id"] or ""
        log_request(fields)
        return response
