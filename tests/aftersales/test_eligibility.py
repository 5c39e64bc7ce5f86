"""`applications.may_apply_items` (what the order page offers) agrees with what `apply`
accepts, situation by situation: every kind it leaves out is refused with
`aftersale_not_allowed`, and a kind it offers goes through. `whole_refund_lines` is the
取消订单并退款 of a paid, unshipped order."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.aftersales import applications, disputes, services
from app.aftersales.states import AfterSaleKind
from app.catalog.models import Category, Product
from app.core.clock import travel
from app.core.db import transaction
from app.core.errors import Conflict
from app.extensions import db
from app.orders.models import Order
from tests.aftersales.conftest import apply, fresh, owner_of, receive, ship

KINDS = [str(kind) for kind in AfterSaleKind]


def reload(order) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order.id)


def agrees(order, expected: set[str], quantity: int = 1) -> None:
    """may_apply_items offers `expected` for the first item, and apply agrees: each
    other kind is refused, then the first offered kind is accepted."""
    order = reload(order)
    item = order.items[0]
    offered = set(applications.may_apply_items(order).get(item.id, ()))
    assert offered == expected
    for kind in KINDS:
        if kind in offered:
            continue
        with pytest.raises(Conflict) as refused:
            apply(order, kind=kind, quantity=quantity)
        assert refused.value.code == "aftersale_not_allowed"
    if offered:
        assert apply(reload(order), kind=sorted(offered)[0], quantity=quantity).status in ("pending", "refunding")


def test_paid_and_unshipped_offers_refund_only(bought):
    agrees(bought(quantity=1, auto_refund=False), {"refund_only"})


def test_shipped_and_received_offer_every_kind(bought):
    order = bought(quantity=1)
    agrees(ship(order), set(KINDS))
    agrees(receive(ship(bought(quantity=1))), set(KINDS))


def test_nothing_once_the_window_is_over(bought):
    order = receive(ship(bought(quantity=1)))
    with travel(timedelta(days=7, minutes=1)):
        agrees(order, set())


def test_a_category_window_counts_per_item(bought):
    order = bought(quantity=1)
    product = db.session.get(Product, order.items[0].product_id)
    db.session.get(Category, product.category_id).aftersale_window_days = 15
    db.session.commit()
    order = receive(ship(order))
    with travel(timedelta(days=10)):
        agrees(order, set(KINDS))


def test_an_item_held_by_an_open_request_is_offered_only_to_that_request(bought):
    order = receive(ship(bought(quantity=2)))
    held = apply(order, kind="refund_only", quantity=1)
    agrees(order, set())
    assert set(applications.may_apply_items(reload(order), holder_id=held.id)[order.items[0].id]) == set(KINDS)


def test_nothing_once_every_unit_is_refunded(bought, run_jobs):
    order = receive(ship(bought(quantity=2)))
    aftersale = apply(order, kind="refund_only", quantity=2)
    with transaction():
        services.refund(owner_of(order), aftersale.aftersale_no)
    run_jobs()
    assert fresh(aftersale).status == "refunded"
    assert applications.may_apply_items(reload(order)) == {}


def test_nothing_after_the_platform_ruled_for_the_shop(bought, make_user):
    order = receive(ship(bought(quantity=1)))
    aftersale = apply(order, kind="return_refund")
    with transaction():
        services.reject(owner_of(order), aftersale.aftersale_no, "商品无质量问题")
    with transaction():
        disputes.escalate(order.buyer_id, aftersale.aftersale_no, "请平台看看")
    with transaction():
        disputes.rule(make_user(admin_role="super"), aftersale.aftersale_no, "close", "证据不足")
    assert fresh(aftersale).status == "closed"
    agrees(order, set())


def test_whole_refund_lines_cover_every_unit_left_of_an_unshipped_order(bought):
    order = bought(quantity=2, products=2, auto_refund=False)
    assert sorted(applications.whole_refund_lines(reload(order))) == sorted((item.id, 2) for item in order.items)
    apply(order, kind="refund_only", quantity=1, item=1)
    assert applications.whole_refund_lines(reload(order)) is None  # an item is held: not the whole order any more
    assert applications.whole_refund_lines(ship(bought(quantity=1))) is None


def test_evidence_keys_are_only_the_requests_own(bought):
    from tests.factories import png_bytes

    order = receive(ship(bought(quantity=1)))
    aftersale = apply(order, kind="return_refund", images=[png_bytes()])
    key = aftersale.images[0]["key"]
    assert services.evidence_key(aftersale, key.rsplit("/", 1)[-1]) == key
    thumb = aftersale.images[0]["thumb_key"]
    assert services.evidence_key(aftersale, thumb.rsplit("/", 1)[-1]) == thumb
    assert services.evidence_key(aftersale, "../../secret.png") is None
    assert services.evidence_key(aftersale, "nothing.png") is None
