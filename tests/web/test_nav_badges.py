"""The back offices' sidebar counts follow the writes: an HTMX write that goes through
says `queues-changed` in its HX-Trigger (beside its toast), reads and refusals do not;
the sidebar then asks `/admin/nav/badges` or `/merchant/nav/badges` for its counts, out
of band, each admin only for the queues their role sees and each shop only for its own."""
# ruff: noqa: F811  (the distribution fixtures are imported, then requested by name)
from __future__ import annotations

import json
import re

import pytest

from app.core.db import transaction
from app.distribution import distributors
from tests.distribution.conftest import set_rules  # noqa: F401
from tests.web.helpers import text
from tests.web.merchant.test_order_pages import order_in  # noqa: F401  (a fixture)

HX = {"HX-Request": "true"}


def triggers(resp) -> dict:
    return json.loads(resp.headers.get("HX-Trigger") or "{}")


def badge(html: str, endpoint: str) -> str | None:
    """The count the sidebar shows for `endpoint` ("" when hidden at 0), None when it has no badge."""
    found = re.search(rf'<span class="badge[^"]*" id="nav-badge-{re.escape(endpoint.replace(".", "-"))}"'
                      r'( hx-swap-oob="true")?( hidden)?>([^<]*)</span>', html)
    return None if found is None else found.group(3)


@pytest.fixture
def applications(make_user, set_rules):
    """Two pending distributor applications: their ids."""
    set_rules(qualification="application")
    ids = []
    for name in ("申请人甲", "申请人乙"):
        with transaction():
            ids.append(distributors.apply(make_user(), {"real_name": name, "phone": "13912345678",
                                                        "reason": "朋友多"}).id)
    return ids


def admin(app, make_user, login, role):
    return login(make_user(admin_role=role), on=app.test_client())


def test_a_write_that_goes_through_asks_for_the_counts_again(app, make_user, login, applications):
    first, second = applications
    c = admin(app, make_user, login, "operator")
    page = text(c.get("/admin/distribution/applications"))
    assert 'hx-get="/admin/nav/badges" hx-trigger="queues-changed from:body" hx-swap="none"' in page
    assert badge(page, "admin.distribution_applications") == "2"

    resp = c.post(f"/admin/distribution/applications/{first}/approve", headers=HX)
    assert triggers(resp)["toast"]["level"] == "success" and triggers(resp)["queues-changed"] is True
    # a refusal (no reason) sends its form back with a danger toast: nothing changed, nothing announced
    resp = c.post(f"/admin/distribution/applications/{second}/reject", data={"reason": ""}, headers=HX)
    assert triggers(resp)["toast"]["level"] == "danger" and "queues-changed" not in triggers(resp)
    # an HTMX read and a plain post are not announced either
    assert "queues-changed" not in triggers(c.get("/admin/distribution/withdrawals", headers=HX))
    resp = c.post(f"/admin/distribution/applications/{second}/reject", data={"reason": "资料不全"})
    assert resp.status_code == 302 and "HX-Trigger" not in resp.headers


def test_admin_counts_come_out_of_band_for_the_queues_the_role_sees(app, client, make_user, login, applications):
    first, _second = applications
    operator = admin(app, make_user, login, "operator")
    html = text(operator.get("/admin/nav/badges"))
    assert badge(html, "admin.distribution_applications") == "2"
    assert 'id="nav-badge-admin-distribution_applications" hx-swap-oob="true">2<' in html
    assert badge(html, "admin.products_review") == "" and "hidden" in html  # none waiting: hidden, still there
    assert badge(html, "admin.merchant_withdrawals_queue") is None  # finance's queue, not an operator's
    assert "bo-nav-link" not in html  # the counts only, not the links

    assert operator.post(f"/admin/distribution/applications/{first}/approve", headers=HX).status_code == 200
    assert badge(text(operator.get("/admin/nav/badges")), "admin.distribution_applications") == "1"

    finance = text(admin(app, make_user, login, "finance").get("/admin/nav/badges"))
    assert badge(finance, "admin.merchant_withdrawals_queue") == ""
    assert badge(finance, "admin.products_review") is None  # operators review products
    # a shopper is refused; a visitor is sent to sign in
    assert login(make_user(), on=app.test_client()).get("/admin/nav/badges").status_code == 403
    resp = client.get("/admin/nav/badges")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_a_shop_counts_only_its_own_queues(app, make_user, make_merchant, make_product, login, order_in):
    owner, other_owner = make_user(), make_user()
    product = make_product(merchant=make_merchant(owner=owner), stocks=(20,))
    make_merchant(owner=other_owner)
    order = order_in(product)
    order_in(product)
    mine = login(owner, on=app.test_client())
    html = text(mine.get("/merchant/nav/badges"))
    assert badge(html, "merchant.orders_list") == "2" and badge(html, "merchant.aftersales_list") == ""
    assert "bo-nav-link" not in html

    resp = mine.post(f"/merchant/orders/{order.order_no}/ship", headers=HX,
                     data={"carrier": "yuantong", "tracking_no": "YT9876543210", "from": "list", "tab": "paid"})
    assert triggers(resp)["queues-changed"] is True
    assert badge(text(mine.get("/merchant/nav/badges")), "merchant.orders_list") == "1"

    # another shop's owner sees their own shop's counts, none of this one's
    theirs = text(login(other_owner, on=app.test_client()).get("/merchant/nav/badges"))
    assert badge(theirs, "merchant.orders_list") == ""
    # someone with no shop is sent to open one
    resp = login(make_user(), on=app.test_client()).get("/merchant/nav/badges")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/merchant/")
