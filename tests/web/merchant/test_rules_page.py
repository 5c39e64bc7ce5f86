"""The merchant 经常一起买 page (/merchant/stats/rules): the shop's own rules, each a
suggested bundle (可组成套餐) with the two products' price together; a product off sale
suggests no bundle; another shop's member sees nothing of this shop (and no product id of
another shop ever shows); the recompute button recomputes the member's own shop only; a
fixed number of queries."""
# ruff: noqa: F811  (the fixture imported below is named as a test argument)
from __future__ import annotations

import re

import sqlalchemy as sa

from app.analytics.models import ProductRule, RuleRun
from app.analytics.recompute import PLATFORM
from app.analytics.tasks import recompute_rules
from app.catalog.models import Product
from app.extensions import db
from app.merchants.models import MerchantMember
from tests.analytics.test_rules_store import recompute_jobs, rules_of, set_settings, together  # noqa: F401
from tests.web.helpers import text, toast
from tests.web.merchant.test_stats_page import owner_of

URL = "/merchant/stats/rules"
HTMX = {"HX-Request": "true"}


def cards(html: str) -> list[dict]:
    found = []
    for block in html.split('class="card border-0 shadow-sm rule-card"')[1:]:
        block = block.split("</article>")[0]
        total = re.search(r"data-bundle-total>(.*?)</div>", block, re.S)
        found.append({
            "rule": re.search(r'data-rule="([\d-]+)"', block).group(1),
            "figures": tuple(re.search(r"data-" + k + r">(.*?)</dd>", block).group(1)
                             for k in ("support", "confidence", "lift")),
            "bundle": re.sub(r"<[^>]+>|\s", "", total.group(1)) if total else None,
            "text": block,
        })
    return found


def product_ids_on(html: str) -> set[int]:
    return {int(n) for rule in re.findall(r'data-rule="([\d-]+)"', html) for n in rule.split("-")}


def test_the_shops_rules_as_bundles(together, client, login):
    recompute_rules()
    a1, a2 = together["a1"], together["a2"]
    login(owner_of(together["shop_a"]))
    html = text(client.get(URL))
    found = cards(html)
    assert [c["rule"] for c in found] == [f"{a2.id}-{a1.id}", f"{a1.id}-{a2.id}"]
    assert found[0]["figures"] == ("37.50%", "100.00%", "1.60") and found[1]["figures"] == ("37.50%", "60.00%", "1.60")
    # 甲二 ¥20.00 + 甲一 ¥10.00
    assert found[0]["bundle"] == "¥30.00" and "¥20.00 + ¥10.00" in found[0]["text"] and "可组成套餐" in found[0]["text"]
    assert "3 笔订单买了前者，其中 3 笔同时买了后者（共 8 笔订单）" in found[0]["text"]
    # the platform's rule b1 -> a1 is the platform's: the shop's page shows its own pairs only
    assert together["b1"].id not in product_ids_on(html) and "乙一" not in html
    assert "共 8 笔已付款订单，得到 2 条规则" in html
    # sorting by support keeps both (equal support), by confidence too; a bogus sort is lift
    assert [c["rule"] for c in cards(text(client.get(URL + "?sort=confidence")))][0] == f"{a2.id}-{a1.id}"
    assert len(cards(text(client.get(URL + "?sort=whatever")))) == 2
    part = text(client.get(URL + "?sort=support", headers={**HTMX, "HX-Target": "rules-list"}))
    assert "<html" not in part and len(cards(part)) == 2


def test_a_product_off_sale_makes_no_bundle(together, client, login):
    recompute_rules()
    db.session.execute(sa.update(Product).where(Product.id == together["a1"].id).values(status="off_sale"))
    db.session.commit()
    login(owner_of(together["shop_a"]))
    found = cards(text(client.get(URL)))
    assert len(found) == 2 and all(c["bundle"] is None and "暂不能组成套餐" in c["text"] for c in found)


def test_another_shops_member_sees_nothing_of_this_shop(together, client, login, make_user):
    recompute_rules()
    shop_a_products = {together[k].id for k in ("a1", "a2", "a3")}
    # shop B's owner: two orders, fewer than the five it takes; nothing of shop A
    login(owner_of(together["shop_b"]))
    html = text(client.get(URL))
    assert cards(html) == [] and 'data-empty="rules"' in html and "甲一" not in html and "甲二" not in html
    assert "共 2 笔已付款订单，得到 0 条规则" in html
    # a rule of shop B's scope that names another shop's product (never mined so: still never shown)
    db.session.add(ProductRule(scope_id=together["shop_b"].id, antecedent_id=together["b1"].id,
                               consequent_id=together["a1"].id, support_bp=5000, confidence_bp=5000, lift_bp=20000,
                               baskets=2, both_baskets=1, antecedent_baskets=2, consequent_baskets=1))
    db.session.commit()
    html = text(client.get(URL))
    assert cards(html) == [] and not product_ids_on(html) & shop_a_products
    # shop B's staff, naming shop A in the query string or the session: never shop A's page
    clerk = make_user()
    db.session.add(MerchantMember(merchant_id=together["shop_b"].id, user_id=clerk.id, role="staff"))
    db.session.commit()
    login(clerk)
    html = text(client.get(URL, query_string={"merchant_id": together["shop_a"].id, "shop": together["shop_a"].id}))
    assert not product_ids_on(html) & shop_a_products and "甲一" not in html
    for method, path in (("get", URL), ("post", URL + "/recompute"), ("get", URL + "/status")):
        with client.session_transaction() as session:  # (a refused choice is forgotten: named again each time)
            session["merchant_id"] = together["shop_a"].id
        resp = getattr(client, method)(path)
        assert resp.status_code == 404 and "甲一" not in text(resp)
    assert recompute_jobs() == []
    # not a merchant at all: to the console's landing page; nobody signed in: to sign in
    login(make_user())
    assert client.get(URL).headers["Location"].endswith("/merchant/")
    assert "/login" in client.application.test_client().get(URL).headers["Location"]


def test_the_button_recomputes_the_members_own_shop_only(together, client, login, run_jobs):
    recompute_rules()
    platform_before = rules_of(PLATFORM)
    set_settings(together["admin"], rules_min_confidence_bp=10000)
    login(owner_of(together["shop_b"]))
    first = client.post(URL + "/recompute", headers=HTMX)
    assert toast(first)["level"] == "success" and 'hx-trigger="every 3s"' in text(first)
    assert toast(client.post(URL + "/recompute", headers=HTMX))["level"] == "warning"
    assert recompute_jobs() == [(together["shop_b"].id,)]
    # shop A's owner may still ask for theirs: shop B's run does not cover it
    client = login(owner_of(together["shop_a"]), on=client.application.test_client())
    assert toast(client.post(URL + "/recompute", headers=HTMX))["level"] == "success"
    assert recompute_jobs() == [(together["shop_b"].id,), (together["shop_a"].id,)]
    run_jobs()
    db.session.expire_all()
    assert [r[:2] for r in rules_of(together["shop_a"].id)] == [(together["a2"].id, together["a1"].id)]
    assert rules_of(PLATFORM) == platform_before  # the platform's rules wait for the nightly run
    assert client.get(URL + "/status?was_busy=1", headers=HTMX).headers["HX-Refresh"] == "true"


def test_before_the_first_run_and_the_link_from_the_stats_page(together, client, login):
    login(owner_of(together["shop_a"]))
    html = text(client.get(URL))
    assert 'data-empty="rules"' in html and "还没有计算过" in html and db.session.get(RuleRun, PLATFORM) is None
    stats = text(client.get("/merchant/stats?range=7d"))
    assert 'id="rules-link"' in stats and f'href="{URL}"' in stats


def test_a_fixed_number_of_queries_whatever_the_page_size(together, client, login, count_queries):
    recompute_rules()
    login(owner_of(together["shop_a"]))

    def queries(per_page: int) -> int:
        db.session.expire_all()
        with count_queries() as statements:
            assert len(cards(text(client.get(URL, query_string={"per_page": per_page})))) == per_page
        return len(statements)

    assert queries(1) == queries(2)
