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


def init_app(app: Flask) -> None:
    log = logging.getLogger("app.request")
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
        user = g.get("log_user_id")
        fields = {
            "request_id": g.get("request_id"),
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "user_id": user,
            "ip": request.remote_addr,
        }
        response.headers["X-Request-Id"] = fields["request_id"] or ""
        if log.isEnabledFor(logging.INFO):
            # The record made directly: `log.info` would first walk the stack for the
            # caller's file and line, which no formatter here prints.
            log.handle(log.makeRecord(log.name, logging.INFO, "", 0, " ".join(f"{k}={v}" for k, v in fields.items()),
                                      (), None, extra={"fields": fields}))
        return response
