"""The category tree is read once per database transaction (app/catalog/categories.py,
`all_categories`): a checkout asks for it twice (what the storefront shows, the
platform's fee), and a change to a category is seen at once."""
from __future__ import annotations

from app.catalog import categories
from app.core.db import transaction
from app.extensions import db


def tree_selects(statements: list[str]) -> int:
    return len([s for s in statements if "FROM categories" in s])


def test_the_tree_is_read_once_for_several_readers(app, make_product, count_queries):
    product = make_product()
    db.session.commit()  # a fresh transaction
    with count_queries() as statements:
        visible = categories.visible_category_ids()
        fees = categories.platform_fee_bp({product.id: product.category_id})
        leaves = categories.leaf_ids_under(product.category_id)
    assert product.category_id in visible and leaves == [product.category_id]
    assert fees == {product.id: 500}
    assert tree_selects(statements) == 1


def test_a_category_added_or_switched_off_is_seen_in_the_same_transaction(app, make_user, make_category):
    admin = make_user(admin_role="operator")
    leaf = make_category()
    top_id = leaf.parent.parent_id
    assert leaf.id in categories.visible_category_ids()
    added = categories.create(admin, "新的大类", None)
    assert added.id in {row.id for row in categories.all_categories()}
    categories.set_active(admin, top_id, False)
    assert leaf.id not in categories.visible_category_ids()


def test_a_rolled_back_savepoint_leaves_no_copy_behind(app, make_user):
    admin = make_user(admin_role="operator")
    before = {row.id for row in categories.all_categories()}
    nested = db.session.begin_nested()
    made = categories.create(admin, "临时大类", None)
    assert made.id in {row.id for row in categories.all_categories()}
    nested.rollback()
    assert {row.id for row in categories.all_categories()} == before


def test_a_category_changed_elsewhere_is_read_in_the_next_transaction(app, make_category):
    leaf = make_category()
    with transaction():
        assert categories.platform_fee_bp({1: leaf.id}) == {1: 500}
    # Another writer's commit (a plain UPDATE, no flush of this session's objects).
    db.session.execute(categories.Category.__table__.update().where(categories.Category.id == leaf.id)
                       .values(platform_fee_bp=800))
    db.session.commit()
    assert categories.platform_fee_bp({1: leaf.id}) == {1: 800}


def test_reading_after_expire_all_costs_no_query_per_category(app, make_category, count_queries):
    for _ in range(3):
        make_category()
    categories.visible_category_ids()
    db.session.expire_all()  # views do this after a write; the copy holds plain rows, not objects
    with count_queries() as statements:
        visible = categories.visible_category_ids()
    assert len(visible) == 9 and statements == []
