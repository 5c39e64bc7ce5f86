"""Platform fee rates (issue 14): a category's own rate (blank inherits the parent's, then
the platform's `platform_fee_bp`) and a shop's own rate (blank: its products' category
rates), typed as percentages, kept in basis points, set by finance only, audited; and the
rate resolved at checkout is the one each order item keeps."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.catalog import categories
from app.catalog.errors import CatalogError
from app.catalog.models import Category
from app.core import settings as platform_settings
from app.core.db import transaction
from app.core.errors import Forbidden, ValidationError
from app.core.models import AuditLog
from app.extensions import db
from app.merchants import shops
from app.merchants.errors import MerchantError
from app.merchants.models import Merchant
from app.orders.models import Order, OrderItem

# Every kind of bad input a person (or a script) sends: letters, negative, above 30%,
# three decimals, huge, other scripts' and full-width digits, stray characters.
BAD = ("abc", "5元", "-1", "-0.5", "30.01", "31", "100", "1.234", "0.001", "99999999999999999999",
       "1e2", "5,5", "0x10", "٥", "５", "5 %", "5%%", ".5", "5.", "+5", "1_0", "nan", "∞")


def audit_rows(action: str) -> list[AuditLog]:
    return list(db.session.scalars(sa.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


@pytest.mark.parametrize("raw, bp", [("5", 500), ("0.6", 60), ("12.5", 1250), ("12.50", 1250), ("0", 0),
                                     ("0.01", 1), (" 7 ", 700), ("30", 3000), ("30.00", 3000), ("3%", 300),
                                     ("05", 500)])
def test_percentages_as_people_type_them(raw, bp):
    assert categories.percent_to_bp(raw) == bp
    assert categories.percent_to_bp(categories.bp_to_percent(bp)) == bp


@pytest.mark.parametrize("raw", BAD + ("", None, "5\n6"))
def test_anything_else_is_not_a_rate(raw):
    assert categories.percent_to_bp(raw) is None


def test_percent_shows_what_was_set():
    assert [categories.bp_to_percent(bp) for bp in (500, 60, 1250, 1, 0, 3000, None)] == [
        "5", "0.6", "12.5", "0.01", "0", "30", ""]


def test_finance_sets_clears_and_the_audit_says_so(make_user, make_category):
    finance, boss = make_user(admin_role="finance"), make_user(admin_role="super")
    leaf = make_category()
    with transaction():
        categories.set_platform_fee(finance, leaf.id, "12.5")
    assert fresh(Category, leaf.id).platform_fee_bp == 1250
    with transaction():
        categories.set_platform_fee(finance, leaf.id, "12.50")  # the same rate: no audit row
        categories.set_platform_fee(boss, leaf.parent_id, "3")
    with transaction():
        categories.set_platform_fee(finance, leaf.id, "  ")
    assert fresh(Category, leaf.id).platform_fee_bp is None and fresh(Category, leaf.parent_id).platform_fee_bp == 300
    assert [(r.actor_id, r.target_type, r.target_id, r.changes) for r in audit_rows("category.platform_fee")] == [
        (finance.id, "Category", str(leaf.id), {"platform_fee_bp": [None, 1250]}),
        (boss.id, "Category", str(leaf.parent_id), {"platform_fee_bp": [None, 300]}),
        (finance.id, "Category", str(leaf.id), {"platform_fee_bp": [1250, None]})]


@pytest.mark.parametrize("raw", BAD)
def test_a_bad_category_rate_says_why_and_changes_nothing(make_user, make_category, raw):
    finance = make_user(admin_role="finance")
    leaf = make_category()
    leaf.platform_fee_bp = 200
    db.session.commit()
    with pytest.raises(ValidationError) as caught, transaction():
        categories.set_platform_fee(finance, leaf.id, raw)
    assert caught.value.code == CatalogError.INVALID_PLATFORM_FEE
    assert "0 到 30 之间的百分比" in caught.value.fields["platform_fee"]
    assert fresh(Category, leaf.id).platform_fee_bp == 200 and audit_rows("category.platform_fee") == []


def test_only_finance_and_super_set_a_category_rate(make_user, make_category):
    leaf = make_category()
    for refused in (make_user(admin_role="operator"), make_user()):
        with pytest.raises(Forbidden) as caught, transaction():
            categories.set_platform_fee(refused, leaf.id, "8")
        assert caught.value.code == CatalogError.FORBIDDEN
    with pytest.raises(Forbidden), transaction():  # nor may an operator clear one
        categories.set_platform_fee(make_user(admin_role="operator"), leaf.id, "")
    assert fresh(Category, leaf.id).platform_fee_bp is None and audit_rows("category.platform_fee") == []


def test_a_shop_rate_set_cleared_refused(make_user, make_merchant):
    finance = make_user(admin_role="finance")
    shop = make_merchant()
    with transaction():
        shops.set_platform_fee(finance, shop.id, "8")
    assert fresh(Merchant, shop.id).platform_fee_bp == 800
    for raw in BAD:
        with pytest.raises(ValidationError) as caught, transaction():
            shops.set_platform_fee(finance, shop.id, raw)
        assert caught.value.code == MerchantError.INVALID_PLATFORM_FEE and "platform_fee" in caught.value.fields, raw
    owner = db.session.get(Merchant, shop.id).members[0].user
    for refused in (make_user(admin_role="operator"), owner):  # nor the shop's own owner
        with pytest.raises(Forbidden) as caught, transaction():
            shops.set_platform_fee(refused, shop.id, "1")
        assert caught.value.code == MerchantError.FORBIDDEN
    assert fresh(Merchant, shop.id).platform_fee_bp == 800
    with transaction():
        shops.set_platform_fee(finance, shop.id, "")
    assert fresh(Merchant, shop.id).platform_fee_bp is None
    assert [r.changes for r in audit_rows("merchant.platform_fee")] == [
        {"platform_fee_bp": [None, 800]}, {"platform_fee_bp": [800, None]}]


def items_of(payment) -> dict[int, int]:
    """product id -> the fee rate its order item keeps."""
    db.session.expire_all()
    rows = db.session.execute(sa.select(OrderItem.product_id, OrderItem.platform_fee_bp).join(Order)
                              .where(Order.payment_id == payment.id))
    return dict(rows.all())


def test_checkout_keeps_the_resolved_rate_and_later_changes_leave_it(make_user, make_category, make_merchant,
                                                                     make_product, place_order):
    """Category 2%, a shop of the platform's choosing at 8%: the override wins for that shop
    only; a sibling category without a rate takes its parent's, a tree without any the
    platform's setting; changing rates afterwards touches no order already placed."""
    finance, buyer = make_user(admin_role="finance"), make_user()
    leaf = make_category()
    sibling = make_category(parent=leaf.parent)  # sets nothing: its parent's, then the platform's
    bare = make_category()  # a tree with no rate at all
    with transaction():
        platform_settings.put("platform_fee_bp", 450, make_user(admin_role="super"))
        categories.set_platform_fee(finance, leaf.id, "2")
        categories.set_platform_fee(finance, leaf.parent_id, "3.5")
    special, ordinary = make_merchant(), make_merchant()
    with transaction():
        shops.set_platform_fee(finance, special.id, "8")
    in_special = make_product(merchant=special, category=leaf, price_fen=1000)
    in_leaf = make_product(merchant=ordinary, category=leaf, price_fen=1000)
    in_sibling = make_product(merchant=ordinary, category=sibling, price_fen=1000)
    in_bare = make_product(merchant=ordinary, category=bare, price_fen=1000)

    first = place_order(buyer, [(p.skus[0].id, 1) for p in (in_special, in_leaf, in_sibling, in_bare)])
    assert items_of(first) == {in_special.id: 800, in_leaf.id: 200, in_sibling.id: 350, in_bare.id: 450}

    with transaction():
        categories.set_platform_fee(finance, leaf.id, "6")
        categories.set_platform_fee(finance, leaf.parent_id, "")
        shops.set_platform_fee(finance, special.id, "")
        platform_settings.put("platform_fee_bp", 1000, make_user(admin_role="super"))
    assert items_of(first) == {in_special.id: 800, in_leaf.id: 200, in_sibling.id: 350, in_bare.id: 450}
    second = place_order(buyer, [(p.skus[0].id, 1) for p in (in_special, in_leaf, in_sibling, in_bare)])
    assert items_of(second) == {in_special.id: 600, in_leaf.id: 600, in_sibling.id: 1000, in_bare.id: 1000}
