"""经常一起买 on the product page: the platform's rules of the product, strongest first
(lift, then confidence), at most four, as the lists' product cards; a product off sale (or
in a closed shop) never shown; no block at all without rules; a fixed number of queries
whatever the number of products shown. The whole way from orders: tests/analytics/test_rules_store.py."""
# ruff: noqa: F811  (the fixture imported below is named as a test argument)
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.analytics.models import ProductRule
from app.analytics.recompute import PLATFORM
from app.analytics.tasks import recompute_rules
from app.catalog.models import Product
from app.extensions import db
from app.merchants.models import Merchant
from tests.analytics.test_rules_store import together  # noqa: F401  (a fixture)
from tests.web.helpers import text


def add_rule(antecedent, consequent, lift_bp: int, confidence_bp: int, scope_id: int = PLATFORM) -> None:
    db.session.add(ProductRule(scope_id=scope_id, antecedent_id=antecedent.id, consequent_id=consequent.id,
                               support_bp=1000, confidence_bp=confidence_bp, lift_bp=lift_bp, baskets=100,
                               both_baskets=10, antecedent_baskets=20, consequent_baskets=30))
    db.session.commit()


def block_ids(html: str) -> list[int]:
    """The products of the 经常一起买 block, in order ([] when there is no block)."""
    if 'id="bought-together"' not in html:
        return []
    block = html.split('id="bought-together"')[1].split("</section>")[0]
    return [int(n) for n in re.findall(r'class="product-card" href="/products/(\d+)"', block)]


@pytest.fixture
def shelf(make_merchant, make_product):
    shop = make_merchant()
    main = make_product(merchant=shop, title="主商品")
    others = [make_product(merchant=shop, title=f"搭配{n}") for n in range(6)]
    return shop, main, others


def test_the_strongest_four_by_lift_then_confidence(client, shelf):
    _shop, main, others = shelf
    for other, lift, confidence in zip(others[:5], (12000, 30000, 30000, 15000, 11000),
                                       (9000, 4000, 8000, 5000, 9900), strict=True):
        add_rule(main, other, lift, confidence)
    add_rule(main, others[5], 99000, 9999, scope_id=_shop.id)  # a shop's rule: not the product page's
    add_rule(others[0], main, 99000, 9999)  # the other way round: another product's page
    html = text(client.get(f"/products/{main.id}"))
    assert "经常一起买" in html
    assert block_ids(html) == [others[2].id, others[1].id, others[3].id, others[0].id]
    assert html.count('class="product-card"') == 4  # the lists' card macro, nothing else


def test_off_sale_products_and_closed_shops_are_never_suggested(client, shelf, make_product, make_merchant):
    _shop, main, others = shelf
    elsewhere = make_merchant()
    closed_shop_product = make_product(merchant=elsewhere, title="关店的商品")
    for n, other in enumerate((others[0], others[1], closed_shop_product)):
        add_rule(main, other, 20000 - n, 5000)
    db.session.execute(sa.update(Product).where(Product.id == others[0].id).values(status="off_sale"))
    db.session.execute(sa.update(Merchant).where(Merchant.id == elsewhere.id).values(status="closed"))
    db.session.commit()
    html = text(client.get(f"/products/{main.id}"))
    assert block_ids(html) == [others[1].id]
    db.session.execute(sa.update(Product).where(Product.id == others[1].id).values(status="off_sale"))
    db.session.commit()
    html = text(client.get(f"/products/{main.id}"))
    assert "经常一起买" not in html and 'id="bought-together"' not in html  # nothing left: no block at all


def test_no_rules_no_block(client, shelf):
    html = text(client.get(f"/products/{shelf[1].id}"))
    assert client.get(f"/products/{shelf[1].id}").status_code == 200
    assert "经常一起买" not in html


def test_the_page_runs_as_many_queries_for_one_suggestion_as_for_four(client, shelf, count_queries):
    _shop, main, others = shelf
    one, four = others[4], others[5]
    add_rule(one, main, 20000, 5000)
    for other in others[:4]:
        add_rule(four, other, 20000, 5000)

    def queries(product) -> int:
        db.session.expire_all()
        with count_queries() as statements:
            html = text(client.get(f"/products/{product.id}"))
        assert "经常一起买" in html
        return len(statements)

    assert queries(one) == queries(four)


def test_from_real_orders_another_shops_product_is_suggested(client, together):
    """A checkout across two shops: the platform's rule b1 -> a1 puts shop A's product on
    shop B's product page; once a1 is off sale, b1's page shows nothing."""
    recompute_rules()
    a1, a2, b1 = together["a1"], together["a2"], together["b1"]
    assert block_ids(text(client.get(f"/products/{b1.id}"))) == [a1.id]
    assert block_ids(text(client.get(f"/products/{a2.id}"))) == [a1.id]
    assert block_ids(text(client.get(f"/products/{a1.id}"))) == [a2.id]
    db.session.execute(sa.update(Product).where(Product.id == a1.id).values(status="off_sale"))
    db.session.commit()
    assert block_ids(text(client.get(f"/products/{b1.id}"))) == []
    assert block_ids(text(client.get(f"/products/{a2.id}"))) == []
