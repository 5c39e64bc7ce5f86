"""The JSON API (`/api/v1`) for the mini-program and merchant integrations.

flask-smorest validates requests with marshmallow schemas and builds the
OpenAPI document from the same code (`/api/v1/openapi.json`, docs page at
`/api/v1/docs`). Errors are always `{"error": {"code", "message"}}` (see
app/web/errors.py), so flask-smorest's own error handler is not installed.
"""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from app.extensions import csrf


class ShopApi(Api):
    def _register_error_handlers(self):
        """Our app-wide handlers already answer API errors in the house format."""


def init_api(app: Flask) -> ShopApi:
    from app.web.api import v1

    app.config.setdefault("API_TITLE", "Shop API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = ShopApi(app, spec_kwargs={
        "info": {"description": "JSON API for the WeChat mini-program and merchant integrations."},
    })
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for blueprint in v1.BLUEPRINTS:
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint, url_prefix=f"/api/v1{blueprint.url_prefix or ''}")
    app.register_blueprint(v1.docs_bp, url_prefix="/api/v1")
    return api
