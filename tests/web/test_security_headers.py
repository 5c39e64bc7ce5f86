"""Security headers on every response, whatever answers it (issue 10, point 3): each
surface's pages and redirects, HTMX partials, the API and its docs, the payment
webhook, the health check, static files and error pages; HSTS and the HTTPS
redirect in production only."""
from __future__ import annotations

import pytest

from tests.web.conftest import PUBLIC_BASE_URL


def policy(resp) -> dict[str, str]:
    """The Content-Security-Policy as {directive: sources}."""
    header = resp.headers.get("Content-Security-Policy", "")
    return dict((part.strip().split(" ", 1) + [""])[:2] for part in header.split(";") if part.strip())


def assert_protected(resp, where: str) -> None:
    csp = policy(resp)
    assert csp.get("default-src") == "'self'", where
    assert csp.get("script-src") == "'self'", where  # no inline script, no eval, no other origin
    assert csp.get("style-src") == "'self'", where
    assert csp.get("object-src") == "'none'" and csp.get("base-uri") == "'none'", where
    assert csp.get("frame-ancestors") == "'none'", where
    assert "unsafe" not in resp.headers["Content-Security-Policy"], where
    assert resp.headers.get("X-Frame-Options") == "DENY", where
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", where
    assert resp.headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", where


HX = {"HX-Request": "true"}
ANONYMOUS = [
    ("GET", "/", {}), ("GET", "/login", {}), ("GET", "/cart/badge", HX), ("GET", "/products/999999", {}),
    ("GET", "/merchant/", {}), ("GET", "/admin/", {}), ("GET", "/distributor/", {}),
    ("GET", "/api/v1/products", {}), ("GET", "/api/v1/openapi.json", {}), ("GET", "/api/v1/docs", {}),
    ("GET", "/api/v1/me", {}), ("POST", "/payments/notify/sandbox", {}), ("GET", "/payments/ping", {}),
    ("GET", "/healthz", {}), ("GET", "/static/css/theme.css", {}), ("GET", "/static/js/app.js", {}),
    ("GET", "/favicon.ico", {}), ("GET", "/no-such-page", {}), ("GET", "/logout", {}),
]


@pytest.mark.parametrize(("method", "path", "headers"), ANONYMOUS, ids=[f"{m} {p}" for m, p, _h in ANONYMOUS])
def test_every_response_carries_the_headers(client, method, path, headers):
    resp = client.open(path, method=method, headers=headers)
    assert resp.status_code < 500, resp.status_code
    assert_protected(resp, f"{method} {path} -> {resp.status_code}")
    assert "Strict-Transport-Security" not in resp.headers  # HTTPS only in production


def test_signed_in_consoles_carry_the_headers(app, make_user, make_merchant, login):
    owner = make_user()
    make_merchant(owner=owner)
    merchant = login(owner, on=app.test_client())
    admin = login(make_user(admin_role="super"), on=app.test_client())
    for client, path in ((merchant, "/merchant/"), (merchant, "/me"), (admin, "/admin/"), (admin, "/admin/users")):
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert_protected(resp, path)


def test_a_server_error_page_carries_the_headers(app, client, monkeypatch):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setitem(app.view_functions, "shop.home", broken)
    resp = client.get("/")
    assert resp.status_code == 500
    assert_protected(resp, "500 page")


def test_tests_and_development_keep_plain_http_and_their_cookie_flags(app, client):
    assert client.get("/login").status_code == 200  # no redirect to https
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_production_sends_hsts_and_moves_plain_http_to_https(production_app):
    client = production_app.test_client()
    resp = client.get("/login", base_url=PUBLIC_BASE_URL)
    assert resp.status_code == 200
    assert_protected(resp, "production /login")
    assert resp.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Secure" in resp.headers["Set-Cookie"]
    plain = client.get("/login?x=1", base_url="http://shop.example.com")
    assert plain.status_code == 302 and plain.headers["Location"] == "https://shop.example.com/login?x=1"
    assert_protected(plain, "production redirect")
    health = client.get("/healthz", base_url="http://shop.example.com")  # load balancers poll over HTTP
    assert health.status_code in (200, 503) and "Strict-Transport-Security" not in health.headers
    assert_protected(health, "production /healthz")


def test_production_refuses_a_plain_http_public_address():
    from app import create_app
    from app.config import ProdConfig, TestConfig

    with pytest.raises(RuntimeError, match="https"):
        create_app(ProdConfig, SECRET_KEY="production-test-secret", PUBLIC_BASE_URL="http://shop.example.com",
                   SQLALCHEMY_DATABASE_URI=TestConfig.SQLALCHEMY_DATABASE_URI)


SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
                    "Permissions-Policy", "Strict-Transport-Security", "Feature-Policy", "Document-Policy",
                    "X-XSS-Protection", "X-Download-Options")


def security_headers(resp) -> dict[str, list[str]]:
    return {name: resp.headers.getlist(name) for name in SECURITY_HEADERS if name in resp.headers}


def test_headers_worked_out_once_per_endpoint_are_a_plain_talismans(production_app, monkeypatch, tmp_path):
    """app.web.security_headers.Talisman keeps each endpoint's header values: every answer,
    the first of its endpoint and the later ones, HTTPS or not, carries what a plain
    Flask-Talisman with the same options sets."""
    import flask_talisman

    from app import create_app
    from app.config import ProdConfig, TestConfig
    from app.extensions import db
    from app.web import security_headers as module

    monkeypatch.setattr(module, "Talisman", flask_talisman.Talisman)
    plain = create_app(ProdConfig, SECRET_KEY="production-test-secret", PUBLIC_BASE_URL=PUBLIC_BASE_URL,
                       SQLALCHEMY_DATABASE_URI=TestConfig.SQLALCHEMY_DATABASE_URI, REDIS_URL=TestConfig.REDIS_URL,
                       RATELIMIT_STORAGE_URI=TestConfig.REDIS_URL, SANDBOX_PAY_SECRET=None, LOG_JSON=False,
                       OUTBOX_DIR=str(tmp_path / "outbox"), UPLOAD_DIR=str(tmp_path / "uploads"))
    assert type(production_app.extensions["talisman"]) is not flask_talisman.Talisman  # the one under test
    ours, theirs = production_app.test_client(), plain.test_client()
    for base in (PUBLIC_BASE_URL, "http://shop.example.com"):
        for path in ("/login", "/", "/healthz", "/static/css/theme.css", "/api/v1/products", "/no-such-page",
                     "/login", "/healthz"):
            mine, reference = ours.get(path, base_url=base), theirs.get(path, base_url=base)
            assert mine.status_code == reference.status_code, (base, path)
            assert security_headers(mine) == security_headers(reference), (base, path)
            assert "Content-Security-Policy" in security_headers(mine)
    with plain.app_context():
        db.engine.dispose()
