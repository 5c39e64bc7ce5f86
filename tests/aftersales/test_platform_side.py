"""The platform's side of after-sales through the real services: rulings (each way,
once, audited, only by roles that rule), the dispute queue, the thread, and the
platform's cancel-and-refund refusals."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.aftersales import disputes, platform, policies, queries, services
from app.aftersales.states import Side
from app.core.db import transaction
from app.core.errors import Conflict, Forbidden, StaleState, ValidationError
from app.core.models import AuditLog
from app.extensions import db
from tests.aftersales.conftest import age, apply, fresh, receive, ship
from tests.aftersales.dispute_steps import disputed, escalate, shipped_back


def test_a_ruling_for_the_buyer_refunds_once_and_is_audited(bought, make_user, run_jobs):
    order, aftersale = disputed(bought)
    operator = make_user(admin_role="operator")
    assert services.actions_for(aftersale, policies.admin(operator.id, operator.admin_role)) == ("rule", "message")
    with transaction():
        disputes.rule(operator, aftersale.aftersale_no, "refund", "照片可见明显裂痕")
    ruled = fresh(aftersale)
    assert ruled.status == "refunding" and ruled.dispute.ruling == "refund" and ruled.dispute.ruled_by_id == operator.id
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "aftersale.rule"))
    assert (audit.actor_id, audit.target_id, audit.changes, audit.note) == (
        operator.id, str(aftersale.id), {"ruling": [None, "refund"]}, "照片可见明显裂痕")
    with pytest.raises(StaleState), transaction():
        disputes.rule(operator, aftersale.aftersale_no, "close", "再改一次")
    run_jobs()
    assert fresh(aftersale).status == "refunded"
    assert queries.open_dispute_count() == 0


def test_finance_reads_but_neither_rules_nor_refunds(bought, make_user):
    order, aftersale = disputed(bought)
    finance = make_user(admin_role="finance")
    assert services.actions_for(aftersale, policies.admin(finance.id, finance.admin_role)) == ()
    with pytest.raises(Forbidden), transaction():
        disputes.rule(finance, aftersale.aftersale_no, "refund", "财务不能裁定")
    with pytest.raises(Forbidden), transaction():
        platform.cancel_and_refund(finance, order.order_no, None, "财务不能退款")
    assert fresh(aftersale).dispute.ruled_at is None


def test_return_refund_ruled_after_the_goods_were_sent_back_refunds_at_once(bought, make_user):
    """Bug: the ruling asked the buyer to send back goods already with the shop, so the
    request waited for a second parcel and closed when none came."""
    order = receive(ship(bought(quantity=1)))
    aftersale = shipped_back(order)
    age(aftersale, 1)  # the shop let its deadline for the parcel pass
    aftersale = escalate(aftersale, "已寄回十多天，商家一直不确认收货")
    with transaction():
        disputes.rule(make_user(admin_role="super"), aftersale.aftersale_no, "return_refund", "物流显示已签收")
    ruled = fresh(aftersale)
    assert ruled.status == "refunding" and ruled.return_tracking_no == "SF3141592653"


def test_a_dispute_ended_without_a_ruling_leaves_the_queue_and_its_thread(bought, make_user):
    """Bug: a dispute the buyer withdrew stayed in the platform's queue (and its badge)
    for ever, and its thread still took messages."""
    order, aftersale = disputed(bought)
    assert queries.open_dispute_count() == 1 and queries.dispute_counts() == {"open": 1, "done": 0}
    with transaction():
        services.cancel(order.buyer_id, aftersale.aftersale_no)
    assert queries.open_dispute_count() == 0 and queries.dispute_counts() == {"open": 0, "done": 1}
    assert db.session.scalars(queries.disputes(open_only=True)).all() == []
    assert [a.id for a in db.session.scalars(queries.disputes(open_only=False))] == [aftersale.id]
    with pytest.raises(Conflict), transaction():
        disputes.post(fresh(aftersale), make_user(admin_role="operator").id, Side.PLATFORM, "请补充照片")


def test_cancel_and_refund_refuses_no_items_and_an_item_named_twice(bought, make_user):
    """Bug: an item named twice reached the database's unique index (a 500), and an
    empty list made a request with nothing in it."""
    order = bought(quantity=2)
    operator = make_user(admin_role="operator")
    item_id = order.items[0].id
    for lines in ([], [(item_id, 1), (item_id, 1)]):
        with pytest.raises(ValidationError) as refused, transaction():
            platform.cancel_and_refund(operator, order.order_no, lines, "商家无法发货")
        assert refused.value.code == "invalid_items"
    db.session.expire_all()
    assert db.session.get(type(order), order.id).refunded_fen == 0


def test_cancel_and_refund_leaves_an_item_with_an_open_request_to_it(bought, make_user):
    order = receive(ship(bought(quantity=2)))
    apply(order, kind="return_refund", quantity=1)
    with pytest.raises(Conflict) as refused, transaction():
        platform.cancel_and_refund(make_user(admin_role="operator"), order.order_no, None, "平台取消")
    assert refused.value.code == "aftersale_not_allowed"
