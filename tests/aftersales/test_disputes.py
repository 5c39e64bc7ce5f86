"""平台介入 through the services: the buyer escalates after a rejection, both sides state
their case in one thread, the platform rules (audited) each way."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.aftersales import disputes, services
from app.aftersales.states import Side
from app.core.db import transaction
from app.core.errors import Conflict, Forbidden, StaleState, ValidationError
from app.core.models import AuditLog
from app.extensions import db
from tests.aftersales.conftest import apply, fresh, owner_of, receive, ship
from tests.factories import png_bytes


def rejected(bought):
    order = receive(ship(bought(quantity=1)))
    aftersale = apply(order, kind="return_refund")
    with transaction():
        services.reject(owner_of(order), aftersale.aftersale_no, "商品已使用，不支持退货")
    return order, fresh(aftersale)


def escalated(bought):
    order, aftersale = rejected(bought)
    with transaction():
        disputes.escalate(order.buyer_id, aftersale.aftersale_no, "商品开箱即有裂痕，附照片", [png_bytes()])
    return order, fresh(aftersale)


def test_escalate_only_after_a_rejection_and_once(bought):
    order = receive(ship(bought(quantity=1)))
    pending = apply(order, kind="return_refund")
    with pytest.raises(StaleState), transaction():
        disputes.escalate(order.buyer_id, pending.aftersale_no, "商家不处理")
    with transaction():
        services.reject(owner_of(order), pending.aftersale_no, "不支持")
    with pytest.raises(ValidationError), transaction():
        disputes.escalate(order.buyer_id, pending.aftersale_no, "   ")
    with transaction():
        disputes.escalate(order.buyer_id, pending.aftersale_no, "请平台看看")
    disputed = fresh(pending)
    assert disputed.status == "disputed" and disputed.dispute.buyer_statement == "请平台看看"
    assert "escalate" not in services.actions_for(disputed, services.policies.buyer(order.buyer_id))


def test_both_sides_state_and_write_and_the_platform_rules_for_the_buyer(bought, make_user, run_jobs):
    order, aftersale = escalated(bought)
    shop = owner_of(order)
    with transaction():
        disputes.state(shop, aftersale.aftersale_no, "买家使用过，影响二次销售", [png_bytes()])
    with transaction():
        disputes.post(services.for_buyer(order.buyer_id, aftersale.aftersale_no), order.buyer_id, Side.BUYER,
                      "我没有用过")
    admin = make_user(admin_role="operator")
    with transaction():
        disputes.post(services.for_platform(aftersale.aftersale_no), admin.id, Side.PLATFORM, "请双方补充凭证")
    with transaction():
        disputes.rule(admin, aftersale.aftersale_no, "refund", "凭证显示到货即有裂痕，支持买家")
    ruled = fresh(aftersale)
    assert ruled.status == "refunding"
    assert ruled.dispute.ruling == "refund" and ruled.dispute.ruled_by_id == admin.id
    assert [m.side for m in ruled.dispute.messages] == ["buyer", "platform"]
    assert ruled.dispute.merchant_statement.startswith("买家使用过") and len(ruled.dispute.merchant_evidence) == 1
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "aftersale.rule"))
    assert audit.actor_id == admin.id and audit.note == "凭证显示到货即有裂痕，支持买家"
    run_jobs()
    assert fresh(aftersale).status == "refunded"
    with pytest.raises(Conflict), transaction():  # the thread closes with the ruling
        disputes.post(services.for_platform(aftersale.aftersale_no), admin.id, Side.PLATFORM, "补充")


def test_a_ruling_for_a_return_sends_the_goods_back_first(bought, make_user):
    order, aftersale = escalated(bought)
    admin = make_user(admin_role="operator")
    with transaction():
        disputes.rule(admin, aftersale.aftersale_no, "return_refund", "退货后退款")
    ruled = fresh(aftersale)
    assert ruled.status == "awaiting_return" and ruled.return_address["recipient"] == "售后部"


def test_a_ruling_for_the_shop_closes_and_the_item_cannot_be_asked_about_again(bought, make_user):
    order, aftersale = escalated(bought)
    admin = make_user(admin_role="operator")
    with transaction():
        disputes.rule(admin, aftersale.aftersale_no, "close", "商品已使用，支持商家")
    closed = fresh(aftersale)
    assert closed.status == "closed"
    assert "reapply" not in services.actions_for(closed, services.policies.buyer(order.buyer_id))
    with pytest.raises(Conflict) as again:
        apply(order, kind="refund_only")
    assert again.value.code == "aftersale_not_allowed"
    with pytest.raises(Conflict), transaction():  # one ruling only
        disputes.rule(admin, aftersale.aftersale_no, "refund", "改判")


def test_rulings_need_a_known_decision_and_a_note_and_only_disputed_requests(bought, make_user):
    order, aftersale = escalated(bought)
    admin = make_user(admin_role="operator")
    with pytest.raises(ValidationError), transaction():
        disputes.rule(admin, aftersale.aftersale_no, "split", "各退一半")
    with pytest.raises(ValidationError), transaction():
        disputes.rule(admin, aftersale.aftersale_no, "refund", "")
    assert fresh(aftersale).dispute.ruled_at is None
    other = apply(receive(ship(bought(quantity=1))), kind="return_refund")
    with pytest.raises((Forbidden, StaleState)), transaction():
        disputes.rule(admin, other.aftersale_no, "refund", "不该能裁定")
