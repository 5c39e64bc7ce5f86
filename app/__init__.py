"""Application factory: extensions, blueprints, CLI and Jinja filters. Nothing else."""
from __future__ import annotations

from flask import Flask

from app.config import Config, ProdConfig, config_from_env
from app.extensions import babel, csrf, db, init_limiter, login_manager, migrate, redis_holder


def create_app(config: type[Config] | None = None, **overrides) -> Flask:
    config = config or config_from_env()
    if issubclass(config, ProdConfig):
        config.check()
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(config)
    app.config.update(overrides)

    from app import models  # noqa: F401  (every table registered before migrate/metadata use)
    from app.cli import register_cli
    from app.web import errors, i18n, logging_setup, templating
    from app.web.auth import init_login
    from app.web.blueprints import register_blueprints

    logging_setup.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    init_limiter(app)
    redis_holder.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    login_manager.init_app(app)
    init_login(app)
    templating.init_app(app)
    register_blueprints(app)
    errors.init_app(app)
    register_cli(app)
    return app
