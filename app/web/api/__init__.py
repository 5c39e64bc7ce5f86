"""The JSON API (`/api/v1`) for the mini-program and merchant integrations.

flask-smorest validates requests with marshmallow schemas and builds the
OpenAPI document from the same code (`/api/v1/openapi.json`, docs page at
`/api/v1/docs`). Errors are always `{"error": {"code", "message", "fields"?}}`
(see app/web/errors.py), so flask-smorest's own error handler is not installed
and its error schema is replaced by ours in the document.
"""
from __future__ import annotations

from apispec import BasePlugin
from flask import Flask
from flask_smorest import Api

from app.extensions import csrf
from app.web.api import v1
from app.web.api.v1.schemas import ApiErrorSchema


class ShopApi(Api):
    # Every error response is documented as what app/web/errors.py sends,
    # {"error": {"code", "message", "fields"?}}, and only with the statuses an
    # operation can answer (no catch-all "default" response), so a client and
    # the schemathesis test can hold each operation to its list.
    ERROR_SCHEMA = ApiErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        """Our app-wide handlers already answer API errors in the house format."""


class CommonErrorsPlugin(BasePlugin):
    """Documents the errors that come from the request layer rather than the view, on
    every operation they can reach: 400 (text no column can store, a body that is not
    JSON: app/web/input_limits.py), 401 where a security scheme applies (checked before
    the body), 404 where the path names something (ids past the `int` converter's range
    match no route)."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            responses.setdefault(400, "BAD_REQUEST")
            if operation.get("security"):
                responses.setdefault(401, "UNAUTHORIZED")
            if "{" in (path or ""):
                responses.setdefault(404, "NOT_FOUND")


def init_api(app: Flask) -> ShopApi:
    app.config.setdefault("API_TITLE", "Shop API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = ShopApi(app, spec_kwargs={
        "info": {"description": "JSON API for the WeChat mini-program and merchant integrations."},
        "extra_plugins": [CommonErrorsPlugin()],
    })
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for blueprint in v1.BLUEPRINTS:
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint, url_prefix=f"/api/v1{blueprint.url_prefix or ''}")
    app.register_blueprint(v1.docs_bp, url_prefix="/api/v1")
    return api
