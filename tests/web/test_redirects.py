"""Redirect targets taken from the request (`next`, the Referer header) stay on this
site (issue 10, point 2): every route that follows one, against inputs that browsers
turn into another host (`/\\t/evil.com` is `//evil.com` to them) or that broke the
response (`/%0A/x` was a 500)."""
from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from tests.factories import PASSWORD

# next= values: each is sent percent-encoded, as a browser would send it.
NASTY_NEXT = [
    "https://evil.example/", "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example",
    "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", " //evil.example", "\t//evil.example",
    "/\x00/evil.example", "/\x0b/evil.example", "/\u3000/evil.example", "/\u200b/evil.example",
    "javascript:alert(1)", "evil.example", "https:evil.example", "/" + "a" * 5000,
]
# Referer values (a header cannot carry CR, LF or NUL).
NASTY_REFERRER = [
    "https://evil.example/", "//evil.example/", "/\t/evil.example", "/\\evil.example",
    "http://evil.example/products/1", "http://localhost@evil.example/", "http://localhost.evil.example/",
    "javascript:alert(1)", "\t//evil.example", "http://[localhost/", "ftp://localhost/products/1",
]


def assert_stays_here(resp, target: str = ""):
    """A redirect whose Location a browser resolves to this site: no other host, nothing
    a browser strips or rewrites (whitespace, controls, backslashes), no "//" path start.
    A NUL anywhere in a request is refused whole before any view (app/web/input_limits.py)."""
    if "\x00" in target:
        assert resp.status_code == 400, resp.status_code
        return
    assert resp.status_code in (301, 302, 303), resp.status_code
    location = resp.headers["Location"]
    parts = urlsplit(location)
    assert parts.scheme in ("", "http") and parts.netloc in ("", "localhost"), location
    assert parts.path.startswith("/") and not parts.path.startswith("//"), location
    assert not any(ch <= " " or ch in "\x7f\\" for ch in location), location
    assert "evil" not in location.lower(), location


def with_next(path: str, target: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}next={quote(target, safe='')}"


# --- routes that follow `next` ----------------------------------------------------------


@pytest.fixture
def shopper(client, make_user, login):
    user = make_user(phone="13711110001")
    login(user)
    return user


def login_get(client, shopper, target):
    return client.get(with_next("/login", target))


def login_post(client, shopper, target):
    client.post("/logout")
    return client.post(with_next("/login", target),
                       data={"mode": "password", "account": "13711110001", "password": PASSWORD})


def language(client, shopper, target):
    return client.get(with_next("/lang/en", target))


def bind_phone(client, shopper, target):
    return client.post(with_next("/me/security/phone", target), data={})


def sms_code(client, shopper, target):
    return client.post(with_next("/auth/sms-code", target), data={"phone": "123", "purpose": "login"})


def oauth_bind_phone(client, shopper, target):
    return client.get(with_next("/login/bind-phone", target))


def checkout_address(client, shopper, target):
    return client.post(with_next("/checkout/address/new", target), data={
        "recipient": "赵六", "phone": "13900002222", "province_code": "350000", "city_code": "350100",
        "district_code": "350102", "detail": "五四路 1 号"})


NEXT_ROUTES = {
    "login (signed in)": (login_get, "/orders", "/orders"),
    "login": (login_post, "/orders", "/orders"),
    "lang": (language, "/orders?tab=paid", "/orders?tab=paid"),
    "me/security/phone": (bind_phone, "/me/addresses", "/me/addresses"),
    "auth/sms-code": (sms_code, "/register", "/register"),
    "login/bind-phone": (oauth_bind_phone, "/me/addresses", "/me/addresses"),
    "checkout/address/new": (checkout_address, "/checkout?sku_id=1", "/checkout?sku_id=1&address_id="),
}


@pytest.mark.parametrize("route", NEXT_ROUTES)
def test_next_only_leads_to_a_path_on_this_site(route, client, shopper):
    send, good, expected = NEXT_ROUTES[route]
    assert send(client, shopper, good).headers["Location"].startswith(expected)  # a good next is followed
    for target in NASTY_NEXT:
        assert_stays_here(send(client, shopper, target), target)


def test_merchant_product_actions_follow_only_local_next(app, make_user, make_merchant, make_product, login):
    owner = make_user()
    merchant = make_merchant(owner=owner)
    product = make_product(merchant=merchant)
    console = login(owner, on=app.test_client())
    ok = console.post(f"/merchant/products/{product.id}/delist", data={"next": "/merchant/products?status=off_sale"})
    assert ok.headers["Location"] == "/merchant/products?status=off_sale"
    for target in NASTY_NEXT:
        assert_stays_here(console.post(f"/merchant/products/{product.id}/relist", data={"next": target}), target)
        assert_stays_here(console.post("/merchant/products/bulk", data={"next": target, "action": ""}), target)


def test_the_reported_urls(client, shopper):
    assert_stays_here(client.get("/lang/en?next=/%09/evil.com"))
    assert_stays_here(client.get("/lang/en", headers={"Referer": "/\t/evil.com"}))
    assert_stays_here(client.post("/me/security/phone?next=https://evil.example"))
    assert_stays_here(client.get("/login?next=/%0A/x"))  # was a 500


# --- routes that go back to the Referer ------------------------------------------------


def test_referrer_only_leads_to_a_path_on_this_site(app, client, shopper, make_user, make_merchant,
                                                     make_product, login):
    owner = make_user()
    sku = make_product(merchant=make_merchant(owner=owner)).skus[0]
    console = login(owner, on=app.test_client())
    operator = login(make_user(admin_role="operator"), on=app.test_client())
    anonymous = app.test_client()
    routes = {
        "lang": lambda ref: client.get("/lang/en", headers=ref),
        "auth/sms-code": lambda ref: client.post("/auth/sms-code", data={"phone": "123", "purpose": "login"},
                                                 headers=ref),
        "merchant inventory": lambda ref: console.post(f"/merchant/inventory/{sku.id}/stock",
                                                       data={"mode": "set", "quantity": "x"}, headers=ref),
        # a refused plain post (unban someone not banned: 409) goes back where it came from
        "domain error": lambda ref: operator.post(f"/admin/users/{shopper.id}/unban", headers=ref),
        # signed out with no SKU chosen: back to the product page it came from, after sign-in
        "cart/add signed out": lambda ref: anonymous.post("/cart/add", data={"sku_id": ""}, headers=ref),
    }
    for name, send in routes.items():
        good = send({"Referer": "http://localhost/products/1?from=home"})
        assert good.headers["Location"] in ("/products/1?from=home", "/login?next=/products/1"), name
        for referrer in NASTY_REFERRER:
            assert_stays_here(send({"Referer": referrer}))


def test_review_moderation_goes_back_only_to_this_site(app, make_user, make_merchant, make_product, place_order,
                                                       pay_sandbox, login):
    from app.core.db import transaction
    from app.orders import reviews
    from app.orders import services as order_services

    owner, buyer = make_user(), make_user()
    merchant = make_merchant(owner=owner)
    payment = place_order(buyer, [(make_product(merchant=merchant).skus[0].id, 1)])
    assert pay_sandbox(payment).status_code == 200
    order = payment.orders[0]
    with transaction():
        order_services.ship(owner.id, merchant.id, order.order_no, "shunfeng", "SF1234567890")
    with transaction():
        order_services.confirm_receipt(buyer.id, order.order_no)
    with transaction():
        review = reviews.create(buyer.id, order.items[0].id, 5, "很好")
    console = login(owner, on=app.test_client())
    operator = login(make_user(admin_role="operator"), on=app.test_client())
    routes = {  # refused posts (no reason, an empty reply) go back to the page they came from
        "admin hide": lambda ref: operator.post(f"/admin/reviews/{review.id}/hide", data={"reason": ""}, headers=ref),
        "merchant reply": lambda ref: console.post(f"/merchant/reviews/{review.id}/reply", data={"reply": " "},
                                                   headers=ref),
    }
    for name, send in routes.items():
        back = send({"Referer": "http://localhost/admin/reviews?page=2"})
        assert back.headers["Location"] == "/admin/reviews?page=2", name
        for referrer in NASTY_REFERRER:
            assert_stays_here(send({"Referer": referrer}))


@pytest.mark.parametrize("path", ["/", "/orders?tab=paid", "/search?q=手机&sort=price", "/products/1#reviews",
                                  "/r/abc/p/2?s=qr", "/a%2F%2Fb"])
def test_ordinary_paths_are_kept(path):
    from app.web.redirects import same_site_path

    assert same_site_path(path) == path
