"""A refund's status is decided once: the gateway's answer moves it from pending
through the refund lifecycle, so a late run never overwrites what another recorded."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.db import transaction
from app.core.models import StateChange
from app.extensions import db
from app.payments import services
from app.payments.models import Refund
from app.payments.providers.base import RefundResult
from app.payments.providers.sandbox import SandboxProvider
from app.payments.signals import refund_succeeded

pytestmark = pytest.mark.books_unchecked("refunds made by hand for an unpaid payment")


def _pending_refund(make_user, make_product, place_order) -> int:
    buyer = make_user()
    payment = place_order(buyer, [(make_product().skus[0].id, 1)])
    with transaction():
        refund = Refund(payment_id=payment.id, order_id=payment.orders[0].id, out_refund_no=f"RT{payment.out_trade_no}",
                        amount_fen=payment.amount_fen, reason="测试", provider="sandbox",
                        out_trade_no=payment.out_trade_no)
        db.session.add(refund)
    return refund.id


def test_a_success_moves_the_refund_once_with_a_timeline_row_and_announces_it(make_user, make_product, place_order):
    refund_id = _pending_refund(make_user, make_product, place_order)
    heard = []
    with refund_succeeded.connected_to(lambda refund, **kw: heard.append(refund.id)), transaction():
        assert services.submit_refund(refund_id) == "succeeded"
    with transaction():
        assert services.submit_refund(refund_id) == "skipped"  # a second run changes nothing
    assert heard == [refund_id]
    changes = db.session.scalars(sa.select(StateChange).where(StateChange.entity == "refund",
                                                              StateChange.entity_id == refund_id)).all()
    assert [(c.from_state, c.to_state) for c in changes] == [("pending", "succeeded")]


def test_a_late_answer_does_not_overwrite_the_one_recorded_first(make_user, make_product, place_order, monkeypatch):
    """Two runs (the job and the sweep) both sent the refund; the other one recorded the
    gateway's success while ours waited, and ours hears "failed" (the gateway refuses a
    refund it already made). The refund used to be overwritten to failed, inviting an
    operator to pay the money back twice."""
    refund_id = _pending_refund(make_user, make_product, place_order)

    def refund_meanwhile_recorded(self, **kwargs):
        db.session.execute(sa.update(Refund).where(Refund.id == refund_id).values(status="succeeded")
                           .execution_options(synchronize_session=False))
        return RefundResult("failed", message="refund already made")

    monkeypatch.setattr(SandboxProvider, "refund", refund_meanwhile_recorded)
    with transaction():
        assert services.submit_refund(refund_id) == "succeeded"
    db.session.expire_all()
    assert db.session.get(Refund, refund_id).status == "succeeded"
