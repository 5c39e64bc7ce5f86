"""Rows for the accounts lifecycles."""
from __future__ import annotations

from app.accounts.models import User
from tests.core.lifecycle_rows import row_maker


@row_maker("user")
def _user(request):
    return User, request.getfixturevalue("make_user")().id
