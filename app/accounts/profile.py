"""A user's own profile: nickname and avatar."""
from __future__ import annotations

from app.accounts.models import User
from app.accounts.validation import check_nickname
from app.core import storage
from app.extensions import db


def set_marketing(user: User, accepts: bool) -> User:
    """Whether marketing messages (from the platform and from shops) may reach the user;
    they stop at once, for sends already running too. Flushes only."""
    user.marketing_opt_out = not accepts
    db.session.flush()
    return user


def update_profile(user: User, nickname: str, avatar_bytes: bytes | None = None) -> User:
    """Validate everything first, so a bad avatar leaves the nickname unchanged too."""
    nickname = check_nickname(nickname)
    stored = None
    if avatar_bytes:
        stored = storage.save_image(avatar_bytes, "avatars")
    old_key = user.avatar_key
    user.nickname = nickname
    if stored:
        user.avatar_key = stored.key
    db.session.flush()
    if stored and old_key:
        storage.delete_stored(old_key)
    return user
