"""Extension objects, created unbound. Imports nothing from the app."""
from __future__ import annotations

from flask import Flask
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic revisions are the same on PostgreSQL and SQLite.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def redis_options(config) -> dict:
    """Options for every Redis client of the app (jobs, rate limits, health): short
    timeouts, so a dead or hung Redis fails fast, and one immediate retry, which
    replaces a pooled connection that died with a restarted server."""
    return {
        "socket_connect_timeout": config.get("REDIS_CONNECT_TIMEOUT_SECONDS", 0.5),
        "socket_timeout": config.get("REDIS_SOCKET_TIMEOUT_SECONDS", 1.0),
        "retry": Retry(NoBackoff(), 1),
    }


def init_limiter(app: Flask) -> None:
    """Bind the limiter with the same Redis options, its storage errors wrapped as
    `limits.errors.StorageError` (what app.core.ratelimit falls back on)."""
    if str(app.config.get("RATELIMIT_STORAGE_URI") or "").startswith(("redis://", "rediss://", "redis+unix://")):
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"wrap_exceptions": True, **redis_options(app.config)})
    limiter.init_app(app)


class RedisHolder:
    """Holds one app's Redis client (`None` when REDIS_URL is not configured)."""

    def __init__(self, client: Redis | None = None) -> None:
        self.client = client


class RedisExtension:
    """Gives each app its own holder in `app.extensions["redis"]`, so two apps in
    one process (tests, scripts) never share or replace each other's client."""

    def init_app(self, app: Flask) -> None:
        url = app.config.get("REDIS_URL")
        app.extensions["redis"] = RedisHolder(Redis.from_url(url, **redis_options(app.config)) if url else None)


redis_holder = RedisExtension()
