"""The product page's 分享赚 button: active distributors see what a friend's
purchase earns them and a way to the share page; nobody else sees it."""
from __future__ import annotations

from app.core.db import transaction
from app.distribution import distributors
from tests.distribution.conftest import set_rules  # noqa: F401


def test_active_distributor_sees_the_level_one_earning(client, login, set_rules, make_distributor,  # noqa: F811
                                                       make_user, make_product):
    set_rules(level1_percent="10")
    product = make_product(price_fen=3990)
    me = make_distributor()
    login(me.user)
    page = client.get(f"/products/{product.id}").get_data(as_text=True)
    assert 'id="share-earn"' in page and "分享赚 ¥3.99" in page
    assert f"/distributor/share?product_id={product.id}" in page


def test_no_button_for_shoppers_frozen_distributors_or_excluded_products(client, login, set_rules,  # noqa: F811
                                                                         make_distributor, make_user,
                                                                         make_product):
    set_rules()
    product = make_product(price_fen=3990)
    excluded = make_product(price_fen=3990, distribution_enabled=False)
    assert 'id="share-earn"' not in client.get(f"/products/{product.id}").get_data(as_text=True)  # signed out
    login(make_user())
    assert 'id="share-earn"' not in client.get(f"/products/{product.id}").get_data(as_text=True)
    me = make_distributor()
    login(me.user)
    assert 'id="share-earn"' not in client.get(f"/products/{excluded.id}").get_data(as_text=True)
    with transaction():
        distributors.freeze(make_user(admin_role="super"), me.id, "违规")
    assert 'id="share-earn"' not in client.get(f"/products/{product.id}").get_data(as_text=True)
