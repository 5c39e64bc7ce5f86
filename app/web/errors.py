"""Maps errors to each surface: branded pages for HTML, a toast for HTMX and
`{"error": {"code", "message"}}` for the API. Bad input never becomes a 500."""
from __future__ import annotations

import logging

from flask import Flask, flash, jsonify, make_response, redirect, render_template, request
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, SecurityError

from app.core.errors import DomainError
from app.core.htmx import is_htmx, with_toast
from app.extensions import db
from app.web.redirects import safe_referrer

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 422: "invalid",
    429: "rate_limited", 500: "server_error",
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json" and not is_htmx()
    )


def error_message(status: int) -> str:
    return {
        400: _("请求有误，请检查后重试"),
        401: _("请先登录"),
        403: _("你没有权限访问这个页面"),
        404: _("页面不存在或已被删除"),
        405: _("不支持这个操作"),
        409: _("操作冲突，请刷新后重试"),
        413: _("上传的文件太大"),
        422: _("提交的内容有误"),
        429: _("操作太频繁，请稍后再试"),
        500: _("服务器开小差了，请稍后再试"),
    }.get(status, _("出错了"))


def json_error(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return make_response(jsonify(body), status)


def with_retry_after(response, seconds: int | None):
    """Add Retry-After (a limit's seconds until it lifts) when they are known."""
    if seconds:
        response.headers["Retry-After"] = str(int(seconds))
    return response


def error_page(status: int, message: str | None = None):
    message = message or error_message(status)
    if wants_json():
        return json_error(status, HTTP_CODES.get(status, "error"), message)
    if is_htmx():
        # Keep the page; tell the user in a toast. 200 so HTMX runs the trigger.
        response = make_response("", 200)
        response.headers["HX-Reswap"] = "none"
        return with_toast(response, message, "danger")
    return make_response(render_template("errors/error.html", status=status, message=message), status)


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        if wants_json():
            response = json_error(exc.status, exc.code, exc.message or error_message(exc.status), exc.fields)
            return with_retry_after(response, getattr(exc, "retry_after", None))
        if is_htmx() or exc.status in (404, 403):
            return error_page(exc.status, exc.message)
        flash(exc.message or error_message(exc.status), "danger")
        return redirect(safe_referrer("/"))

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(exc):
        return error_page(429)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return error_page(400, _("页面已过期，请刷新后重试"))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code and exc.code < 400:
            return exc
        if isinstance(exc, SecurityError):
            # A Host header outside TRUSTED_HOSTS: no URL can be built for this request,
            # so no page either; a plain 400 is all it gets.
            return make_response(error_message(400), 400, {"Content-Type": "text/plain; charset=utf-8"})
        if wants_json() and exc.code == 422:
            messages = getattr(exc, "data", {}).get("messages") if hasattr(exc, "data") else None
            return json_error(422, "invalid", _("提交的内容有误"), flatten_messages(messages))
        return error_page(exc.code or 500)

    @app.errorhandler(DataError)
    def data_error(exc: DataError):
        # The last resort for input the edge did not bound (a number out of a column's
        # range, text the database cannot store): the database refused it, so nothing
        # was written; say so as bad input rather than a server error.
        log.warning("database refused input on %s %s: %s", request.method, request.path, exc.orig)
        db.session.rollback()
        return error_page(400)

    @app.errorhandler(Exception)
    def server_error(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return error_page(500)


def flatten_messages(messages) -> dict:
    """webargs nests messages by location ({"json": {"phone": ["..."]}}); flatten to field -> text."""
    flat: dict[str, str] = {}
    if not isinstance(messages, dict):
        return flat
    for location in messages.values():
        if isinstance(location, dict):
            for field, errs in location.items():
                flat[field] = errs[0] if isinstance(errs, list) and errs else str(errs)
    return flat
