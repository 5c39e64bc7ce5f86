"""Two copies of the delivery job at the same moment: only one sends."""
import pytest
import sqlalchemy as sa

from app.core.db import transaction
from app.extensions import db
from app.notifications import services as notifications
from app.notifications import tasks

pytestmark = pytest.mark.live_db


def test_a_row_being_sent_by_another_worker_is_left_alone(app, outbox):
    with transaction():
        row_id = notifications.send_sms("+8613800001234", "notice", {"text": "hi"}).id
    db.session.remove()
    # Another worker holds the row while it sends.
    with db.engine.connect() as other_worker, other_worker.begin():
        other_worker.execute(sa.text("SELECT id FROM outbound_messages WHERE id = :id FOR UPDATE"), {"id": row_id})
        assert tasks.deliver_outbound(row_id) == "busy"
        db.session.rollback()
    assert outbox.sms() == []
    assert tasks.deliver_outbound(row_id) != "busy"  # once released, it is delivered
    assert len(outbox.sms()) == 1
