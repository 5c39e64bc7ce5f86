"""Who may do what to a product (policies), the typed save, and the shop's closure."""
import pytest
import sqlalchemy as sa

from app.catalog import policies, products
from app.catalog.models import Product, ProductEvent
from app.catalog.policies import Side, actions_for
from app.catalog.product_input import CommissionInput, ProductInput, SkuInput
from app.catalog.states import PRODUCT_LIFECYCLE, ProductStatus
from app.core.db import transaction
from app.core.errors import Forbidden, NotFound, StaleState, ValidationError
from app.extensions import db
from app.merchants import penalties

MERCHANT = {
    ProductStatus.DRAFT: ("edit", "submit"),
    ProductStatus.REJECTED: ("edit", "submit"),
    ProductStatus.PENDING_REVIEW: ("edit", "withdraw"),
    ProductStatus.ON_SALE: ("edit", "delist"),
    ProductStatus.OFF_SALE: ("edit", "relist"),
}
PLATFORM = {
    ProductStatus.DRAFT: (),
    ProductStatus.REJECTED: (),
    ProductStatus.PENDING_REVIEW: ("approve", "reject"),
    ProductStatus.ON_SALE: ("violation_delist",),
    ProductStatus.OFF_SALE: (),
}


@pytest.mark.parametrize("status", list(ProductStatus))
def test_each_side_gets_the_actions_its_status_allows(status, make_user, make_merchant, make_product):
    owner = make_user()
    product = make_product(merchant=make_merchant(owner=owner), status=status)
    reviewer, shopper = make_user(admin_role="operator"), make_user()
    assert actions_for(product, owner) == MERCHANT[status]
    assert actions_for(product, reviewer) == PLATFORM[status]
    assert actions_for(product, shopper) == ()
    assert actions_for(product, None, Side.MERCHANT) == MERCHANT[status]


def test_require_refuses_outsiders_and_acts_the_status_does_not_allow(make_user, make_merchant, make_product):
    owner = make_user()
    product = make_product(merchant=make_merchant(owner=owner), status="draft")
    with pytest.raises(Forbidden):
        policies.require(product, make_user(admin_role="finance"), "approve")
    with pytest.raises(NotFound):
        policies.require(product, make_user(), "submit")
    with pytest.raises(StaleState) as stale:
        policies.require(product, owner, "delist")
    assert (stale.value.act, stale.value.found) == ("delist", "draft")
    policies.require(product, owner, "submit")  # allowed: nothing raised


def _typed(category_id: int, **overrides) -> ProductInput:
    fields = {"title": "陶瓷马克杯", "category_id": category_id, "specs": [{"name": "颜色", "values": ["白", "黑"]}],
              "skus": [SkuInput({"颜色": "白"}, price_fen=3990, stock=5), SkuInput({"颜色": "黑"}, price_fen=4290)],
              "commission": CommissionInput(enabled=True, level_bp={1: 1234, 2: None, 3: None})}
    return ProductInput(**{**fields, **overrides})


def test_save_takes_fen_and_basis_points(make_user, make_merchant, make_category):
    owner = make_user()
    merchant, category = make_merchant(owner=owner), make_category()
    with transaction():
        product = products.save(owner, merchant.id, _typed(category.id))
    product = db.session.get(Product, product.id)
    assert product.price_fen == 3990 and product.commission_l1_bp == 1234 and product.commission_l2_bp is None
    assert sorted(s.price_fen for s in product.skus) == [3990, 4290]


def test_save_validates_typed_values_itself(make_user, make_merchant, make_category):
    owner = make_user()
    merchant, category = make_merchant(owner=owner), make_category()
    bad = _typed(category.id, skus=[SkuInput({"颜色": "白"}, price_fen=0, stock=-1),
                                    SkuInput({"颜色": "黑"}, price_fen=100, promotion_price_fen=200)],
                 on_promotion=False)
    with pytest.raises(ValidationError) as err, transaction():
        products.save(owner, merchant.id, bad)
    assert err.value.code == "invalid_product"
    assert err.value.fields == {"sku.颜色:白.price": "价格必须大于 0", "sku.颜色:白.stock": "不能小于 0",
                                "sku.颜色:黑.promotion_price": "促销价必须低于原价"}
    with pytest.raises(ValidationError) as err, transaction():
        products.save(owner, merchant.id, _typed(category.id, commission=CommissionInput(level_bp={1: 20_000})))
    assert err.value.code == "invalid_commission" and "commission_l1" in err.value.fields


def test_closing_a_shop_takes_its_products_off_sale_with_a_timeline_row(make_user, make_merchant, make_product):
    """Bug found on the way: the closure moved products with a bare UPDATE, so their
    timelines did not say why they went off sale."""
    owner = make_user()
    merchant = make_merchant(owner=owner)
    listed, waiting = make_product(merchant=merchant), make_product(merchant=merchant, status="pending_review")
    draft = make_product(merchant=merchant, status="draft")
    with transaction():
        penalties.close(make_user(admin_role="operator"), merchant.id, "严重违规")
    for product in (listed, waiting):
        assert db.session.get(Product, product.id).status == "off_sale"
        event = db.session.scalar(sa.select(ProductEvent).where(ProductEvent.product_id == product.id))
        assert event is not None and event.to_status == "off_sale"
    assert db.session.get(Product, draft.id).status == "draft"


def test_every_product_status_write_is_an_act_of_the_lifecycle():
    """The services name only acts the table declares."""
    acts = set(PRODUCT_LIFECYCLE.transitions)
    assert {"submit", "publish", "withdraw", "approve", "reject", "revise", "delist", "violation_delist",
            "relist", "relist_for_review", "close_shop"} == acts
