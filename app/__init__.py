"""Application factory: extensions, blueprints, CLI and Jinja filters. Nothing else."""
from __future__ import annotations

from flask import Flask

from app import models  # noqa: F401  (every table registered before migrate/metadata use)
from app.cli import register_cli
from app.config import Config, config_from_env, trusted_hosts
from app.core import page_cache
from app.extensions import babel, csrf, db, init_limiter, login_manager, migrate, redis_holder
from app.receivers import connect_all
from app.web import errors, i18n, input_limits, logging_setup, security_headers, session_cookie, templating
from app.web.api import flash_refusals
from app.web.auth import init_login
from app.web.blueprints import register_blueprints
from app.web.shop import full_pages


def create_app(config: type[Config] | None = None, **overrides) -> Flask:
    config = config or config_from_env()
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(config)
    app.config.update(overrides)
    config.check(app.config)
    if app.config["TRUSTED_HOSTS"] is None:
        app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)

    logging_setup.init_app(app)
    security_headers.init_app(app)
    session_cookie.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    init_limiter(app)
    redis_holder.init_app(app)
    page_cache.init_app(app)  # after redis_holder: the cache uses its client
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    login_manager.init_app(app)
    init_login(app)
    templating.init_app(app)
    input_limits.init_app(app)  # before the blueprints: their rules use its `int` converter
    register_blueprints(app)
    full_pages.init_app(app)  # the WSGI layer answering visitors without a session from memory
    flash_refusals.init_app(app)  # the WSGI layer answering 秒杀 buyers Redis refuses, from memory
    errors.init_app(app)
    register_cli(app)
    connect_all()  # domain signals to their receivers (app/receivers.py)
    return app
