"""Writes to analytics' own table that other domains ask for."""
from __future__ import annotations

import sqlalchemy as sa

from app.analytics.models import Event
from app.extensions import db


def forget_user(user_id: int) -> None:
    """Unlink a deleted account from its behaviour events: the counts stay (for the
    shops' and the platform's figures), nothing points at the person any more."""
    db.session.execute(sa.update(Event).where(Event.user_id == user_id).values(user_id=None)
                       .execution_options(synchronize_session=False))
