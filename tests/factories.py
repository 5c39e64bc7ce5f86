"""Factories as fixtures that return a callable (`make_user(...)`)."""
from __future__ import annotations

import itertools

import pytest

from app.accounts.models import User
from app.accounts.services import hash_password
from app.extensions import db

PASSWORD = "secret123"
_numbers = itertools.count(1)


@pytest.fixture
def make_user():
    def make(phone: str | None = None, email: str | None = None, password: str | None = PASSWORD,
             nickname: str = "", admin_role: str = "none", **fields) -> User:
        n = next(_numbers)
        if phone is None and email is None:
            phone = f"1370000{n:04d}"
        user = User(
            phone=("+86" + phone) if phone else None, email=email, nickname=nickname or f"用户{n}",
            password_hash=hash_password(password) if password else None, admin_role=admin_role, **fields,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(client):
    """Sign a user in on the test client without going through the form."""

    def sign_in(user: User, on=None):
        target = on or client
        with target.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return target

    return sign_in


@pytest.fixture
def api_token():
    from app.accounts.services import issue_api_token

    def issue(user: User) -> dict:
        token = issue_api_token(user)
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return issue
