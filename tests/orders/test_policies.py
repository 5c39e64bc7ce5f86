"""The order policy (app/orders/policies.py): what each audience may do in each status,
refusals by kind (Forbidden for the wrong person, StaleState with the act's code for the
wrong moment), the services refusing through it, and the order labels per audience."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from app.core.db import transaction
from app.core.errors import Forbidden, StaleState
from app.core.labels import labels_for
from app.extensions import db
from app.merchants.models import MerchantMember
from app.merchants.states import MemberRole
from app.orders import policies
from app.orders import services as order_services
from app.orders.models import Order
from app.orders.states import ORDER_LIFECYCLE, OrderStatus

BUYER, SHOP, OTHER_SHOP = 7, 3, 4


def order(status, *, reviewed=(False,), shipment=True):
    return SimpleNamespace(status=status, buyer_id=BUYER, merchant_id=SHOP,
                           items=[SimpleNamespace(reviewed=r, open_aftersale_id=None) for r in reviewed],
                           shipment=object() if shipment else None)


buyer = policies.buyer(BUYER)
owner = policies.Actor(policies.Audience.MERCHANT, 1, SHOP, MemberRole.OWNER)
staff = policies.Actor(policies.Audience.MERCHANT, 2, SHOP, MemberRole.STAFF)
outsider = policies.Actor(policies.Audience.MERCHANT, 9, SHOP, None)  # not a member of the shop
other_shop = policies.Actor(policies.Audience.MERCHANT, 5, OTHER_SHOP, MemberRole.OWNER)
admin = policies.admin(99)

S = OrderStatus
EXPECTED = {
    # status: (buyer, shop member)
    S.PENDING_PAYMENT: (("pay", "cancel"), ()),
    S.PAID: ((), ("ship",)),
    S.SHIPPED: (("confirm_receipt",), ("add_tracking",)),
    S.RECEIVED: (("review",), ("add_tracking",)),
    S.COMPLETED: (("review",), ()),
    S.CANCELLED: ((), ()),
    S.CLOSED: ((), ()),
}


@pytest.mark.parametrize("status", list(S))
def test_what_each_audience_may_do_in_each_status(status):
    for_buyer, for_shop = EXPECTED[status]
    assert policies.actions_for(order(status), buyer) == for_buyer
    assert policies.actions_for(order(status), owner) == for_shop
    assert policies.actions_for(order(status), staff) == for_shop  # staff ship too (SHIPPING_ROLES)
    for nobody in (outsider, other_shop, admin, policies.buyer(BUYER + 1)):
        assert policies.actions_for(order(status), nobody) == ()


def test_review_only_while_an_item_is_unreviewed_and_tracking_only_with_a_shipment():
    assert policies.actions_for(order(S.RECEIVED, reviewed=(True, False)), buyer) == ("review",)
    assert policies.actions_for(order(S.RECEIVED, reviewed=(True, True)), buyer) == ()
    assert policies.actions_for(order(S.SHIPPED, shipment=False), owner) == ()


def test_the_table_acts_follow_the_status_table():
    for name, transition in ORDER_LIFECYCLE.transitions.items():
        act = policies.act_name(name)
        for status in S:
            assert (act in policies.table_acts(status)) == (status in transition.sources), (act, status)
    assert policies.act_name("receive") == "confirm_receipt"


def test_require_refuses_the_wrong_person_and_the_wrong_moment():
    paid = order(S.PAID)
    assert policies.require(paid, staff, "ship") is paid
    for who, act in ((outsider, "ship"), (other_shop, "ship"), (admin, "ship"), (buyer, "ship"),
                     (owner, "cancel"), (policies.buyer(BUYER + 1), "cancel")):
        with pytest.raises(Forbidden):
            policies.require(paid, who, act)
    with pytest.raises(StaleState) as refused:
        policies.require(paid, buyer, "cancel")
    assert refused.value.code == "cannot_cancel" and refused.value.found == S.PAID and refused.value.act == "cancel"
    assert "已付款" in refused.value.message
    with pytest.raises(StaleState) as refused:
        policies.require(order(S.SHIPPED), owner, "ship")
    assert refused.value.code == "cannot_ship" and refused.value.status == 409
    with pytest.raises(StaleState) as refused:
        policies.require(paid, buyer, "receive")
    assert refused.value.code == "cannot_confirm"


def test_order_words_differ_by_audience_where_the_consoles_do():
    labels = labels_for("order")
    assert labels.label(S.SHIPPED, "buyer") == "待收货" and labels.label(S.SHIPPED, "merchant") == "已发货"
    assert labels.label(S.SHIPPED) == "已发货" and labels.label(S.PAID, "buyer") == "待发货"
    assert set(labels.statuses) == {s.value for s in S}
    assert labels.label(S.PAID, "distributor") == "已付款"
    assert labels.tone(S.PAID) == "success" and labels.tone(S.CANCELLED) == "danger"  # UI.md: paid is green
    assert labels_for("order_step").label(S.PAID, "buyer") == "已付款"
    assert labels_for("order_step").label(S.PAID) == "买家付款"


# --- the services refuse through the policy ----------------------------------------------------

@pytest.fixture
def paid_order(make_user, make_product, place_order, pay_sandbox):
    def make():
        buyer_user = make_user()
        product = make_product(stocks=(5,))
        payment = place_order(buyer_user, [(product.skus[0].id, 1)])
        assert pay_sandbox(payment).status_code == 200
        db.session.expire_all()
        return buyer_user, db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))

    return make


def test_only_a_member_of_the_shop_may_ship_its_order(paid_order, make_user):
    """A bug found on the way: `ship` took any actor id for the shop, so only the views
    kept non-members out; the service now refuses them itself."""
    buyer_user, paid = paid_order()
    for stranger_id in (make_user().id, buyer_user.id):
        with pytest.raises(Forbidden), transaction():
            order_services.ship(stranger_id, paid.merchant_id, paid.order_no, "shunfeng", "SF1234567890")
    db.session.expire_all()
    assert db.session.get(Order, paid.id).status == "paid"
    staff_user = make_user()
    with transaction():
        db.session.add(MerchantMember(merchant_id=paid.merchant_id, user_id=staff_user.id, role=MemberRole.STAFF))
    with transaction():
        shipped = order_services.ship(staff_user.id, paid.merchant_id, paid.order_no, "shunfeng", "SF1234567890")
    assert shipped.status == "shipped"


def test_cancel_and_confirm_say_why_not_with_their_codes(paid_order):
    buyer_user, paid = paid_order()
    with pytest.raises(StaleState) as refused, transaction():
        order_services.cancel_by_buyer(buyer_user.id, paid.order_no)
    assert refused.value.code == "cannot_cancel" and "已付款" in refused.value.message
    with pytest.raises(StaleState) as refused, transaction():
        order_services.confirm_receipt(buyer_user.id, paid.order_no)
    assert refused.value.code == "cannot_confirm"
