"""Accounts: what a bearer-token request costs next to a password sign-in
(scrypt is slow on purpose), and whether the admin user list stays flat as
the page grows (a fixed number of queries)."""
from __future__ import annotations

from app.accounts.models import User
from app.accounts.services import hash_password, issue_api_token
from app.extensions import db


def run(app, timed):
    password_hash = hash_password("bench1234")
    users = [User(phone=f"+86137{n:08d}", nickname=f"压测{n}", password_hash=password_hash) for n in range(300)]
    admin = User(phone="+8613600000000", nickname="admin", password_hash=password_hash, admin_role="super")
    db.session.add_all([*users, admin])
    db.session.commit()
    token = issue_api_token(users[0])
    db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def token_request():
        assert client.get("/api/v1/me", headers=headers).status_code == 200

    def password_sign_in():
        resp = client.post("/api/v1/auth/login/password", json={"account": "13700000001", "password": "bench1234"})
        assert resp.status_code == 200

    token_ms = timed(token_request, 200) * 1000
    login_ms = timed(password_sign_in, 20) * 1000

    def list_page(per_page):
        def fetch():
            from app.accounts.admin_services import search_users

            with app.test_request_context():
                assert len(search_users("", "", 1, per_page).items) == per_page
        return fetch

    small = timed(list_page(20), 50) * 1000
    large = timed(list_page(100), 50) * 1000
    return [
        ("GET /api/v1/me (token) vs POST login/password (scrypt)", token_ms, login_ms, "ms"),
        ("admin user search: 20 rows vs 100 rows per page", small, large, "ms"),
    ]
