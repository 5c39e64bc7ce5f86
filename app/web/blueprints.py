"""Registers every surface's blueprint."""
from __future__ import annotations

from flask import Flask

from app.web.admin import bp as admin_bp
from app.web.api import init_api
from app.web.distributor import bp as distributor_bp
from app.web.health import bp as health_bp
from app.web.merchant import bp as merchant_bp
from app.web.payments import bp as payments_bp
from app.web.shop import bp as shop_bp


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(health_bp)
    app.register_blueprint(shop_bp)
    app.register_blueprint(merchant_bp, url_prefix="/merchant")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(distributor_bp, url_prefix="/distributor")
    app.register_blueprint(payments_bp, url_prefix="/payments")
    init_api(app)
