"""Sign-in plumbing for the HTML surfaces: the Flask-Login user loader (which
enforces `session_version` and bans) and the permission decorators."""
from __future__ import annotations

from functools import wraps

from flask import Flask, abort, g
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.accounts import policies
from app.accounts.models import User
from app.extensions import db, login_manager


def init_login(app: Flask) -> None:
    login_manager.login_view = "shop.login"
    login_manager.login_message = _l("请先登录")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        user_id, _, version = session_id.partition(":")
        try:
            user = db.session.get(User, int(user_id))
        except ValueError:
            return None
        if user is None or str(user.session_version) != version or user.is_banned or user.is_deleted:
            return None
        g.log_user_id = user.id
        return user


def admin_required(permission: str | None = None):
    """Only admins; with `permission`, only admins whose role grants it (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not policies.has_admin_role(current_user):
                abort(403)
            if permission and not policies.can(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
