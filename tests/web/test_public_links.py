"""Absolute links come from PUBLIC_BASE_URL, never from the request's Host header
(issue 10, point 1): a reset link mailed to a host the attacker chose hands them the account."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import create_app
from app.catalog.models import ProductImage
from app.config import ProdConfig, TestConfig
from app.extensions import db
from tests.web.conftest import PUBLIC_BASE_URL

EVIL = "http://evil.example"
APP = Path(__file__).resolve().parents[2] / "app"


@pytest.fixture
def any_host(app, monkeypatch):
    """Trust every Host header, as a misconfigured proxy would, and give the site a
    public address unlike the test client's own host: links must still use that address."""
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", None)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", PUBLIC_BASE_URL)


def mailed_link(outbox, run_jobs, email: str) -> str:
    run_jobs()
    return outbox.last_link(email)


def test_password_reset_mail_links_to_the_public_address(any_host, client, make_user, outbox, run_jobs):
    make_user(email="victim@example.com")
    resp = client.post("/password/forgot?mode=email", data={"email": "victim@example.com"}, base_url=EVIL)
    assert resp.status_code == 200
    link = mailed_link(outbox, run_jobs, "victim@example.com")
    assert re.fullmatch(rf"{PUBLIC_BASE_URL}/password/reset/[^/\s]+", link), link


def test_registration_mail_links_to_the_public_address(any_host, client, outbox, run_jobs):
    client.post("/register?mode=email", data={"email": "new@example.com"}, base_url=EVIL)
    assert mailed_link(outbox, run_jobs, "new@example.com").startswith(f"{PUBLIC_BASE_URL}/register/email/")


def test_api_registration_mail_links_to_the_public_address(any_host, client, outbox, run_jobs):
    resp = client.post("/api/v1/auth/email/start", json={"email": "mp@example.com"}, base_url=EVIL)
    assert resp.status_code == 202
    assert mailed_link(outbox, run_jobs, "mp@example.com").startswith(f"{PUBLIC_BASE_URL}/register/email/")


def test_email_binding_mail_links_to_the_public_address(any_host, client, make_user, outbox, run_jobs):
    user = make_user()
    with client.session_transaction(base_url=EVIL) as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    client.post("/me/security/email", data={"email": "bind@example.com"}, base_url=EVIL)
    assert mailed_link(outbox, run_jobs, "bind@example.com").startswith(f"{PUBLIC_BASE_URL}/me/security/email/")


def test_api_image_and_pay_urls_use_the_public_address(any_host, client, make_user, make_product, place_order,
                                                        api_token):
    product = make_product()
    db.session.add(ProductImage(product_id=product.id, key=f"products/{product.id}/a.png",
                                thumb_key=f"products/{product.id}/a.webp", position=0, width=800, height=800))
    db.session.commit()
    item = client.get(f"/api/v1/products/{product.id}", base_url=EVIL).json
    assert item["images"][0]["url"] == f"{PUBLIC_BASE_URL}/media/products/{product.id}/a.png"
    assert item["image_url"] == f"{PUBLIC_BASE_URL}/media/products/{product.id}/a.webp"
    buyer = make_user()
    payment = place_order(buyer, [(product.skus[0].id, 1)])
    started = client.post(f"/api/v1/payments/{payment.out_trade_no}/pay", json={"provider": "sandbox"},
                          headers=api_token(buyer), base_url=EVIL).json
    assert started["pay_url"] == f"{PUBLIC_BASE_URL}/payments/sandbox/{payment.out_trade_no}"


def test_sandbox_pay_page_notifies_only_the_public_address(app, client, make_user, make_product, place_order,
                                                            login, monkeypatch):
    """The sandbox page posts its notification server to server: to our own notify
    endpoint on PUBLIC_BASE_URL, whatever Host the buyer's request carried."""
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", None)
    posted = []

    class Reply:
        status_code = 200

    monkeypatch.setattr("app.web.payments.requests.post", lambda url, **kwargs: posted.append(url) or Reply())
    buyer = make_user()
    payment = place_order(buyer, [(make_product().skus[0].id, 1)])
    with client.session_transaction(base_url=EVIL) as session:
        session["_user_id"] = buyer.get_id()
        session["_fresh"] = True
    resp = client.post(f"/payments/sandbox/{payment.out_trade_no}", data={"result": "pay"}, base_url=EVIL)
    assert resp.status_code == 302
    assert posted == ["http://localhost/payments/notify/sandbox"]


def test_an_untrusted_host_is_refused_in_production(production_app):
    client = production_app.test_client()
    assert client.get("/login", base_url=PUBLIC_BASE_URL).status_code == 200
    for path in ("/login", "/password/forgot", "/api/v1/products", "/no-such-page"):
        resp = client.get(path, base_url="https://evil.example")
        assert resp.status_code == 400, path
    assert client.post("/password/forgot?mode=email", data={"email": "a@example.com"},
                       base_url="https://evil.example").status_code == 400


def test_trusted_hosts_come_from_the_public_address(production_app, app):
    assert production_app.config["TRUSTED_HOSTS"] == ["shop.example.com"]
    assert set(app.config["TRUSTED_HOSTS"]) == {"localhost", "127.0.0.1"}  # tests: http://localhost


@pytest.mark.parametrize("base", [None, "", "shop.example.com", "ftp://shop.example.com", "https://",
                                  "https://shop.example.com/?x=1", "javascript:alert(1)"])
def test_production_refuses_to_start_without_a_usable_public_address(base):
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        create_app(ProdConfig, SECRET_KEY="production-test-secret", PUBLIC_BASE_URL=base,
                   SQLALCHEMY_DATABASE_URI=TestConfig.SQLALCHEMY_DATABASE_URI)


def test_no_link_is_built_from_the_request_host():
    """`url_for(..., _external=True)` and `request.host_url` build links on whatever Host the
    request carried; every absolute link goes through app.core.urls instead."""
    host_built = re.compile(r"_external\s*=|\bhost_url\b|\burl_root\b")
    found = [
        f"{path.relative_to(APP)}:{n}: {line.strip()}"
        for path in sorted(APP.rglob("*")) if path.suffix in (".py", ".html") and "vendor" not in path.parts
        and path != APP / "core" / "urls.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if host_built.search(line)
    ]
    assert found == []
