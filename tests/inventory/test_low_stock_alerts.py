"""Low-stock alerts through a real RQ worker and the console outbox."""
import sqlalchemy as sa

from app.core.db import transaction
from app.extensions import db
from app.inventory import alerts
from app.inventory import services as stock
from app.inventory.models import LowStockAlert
from app.notifications.models import Message


def test_alert_fires_once_per_dip_on_the_chosen_channels(make_user, make_merchant, make_product, run_jobs, outbox):
    owner = make_user(phone="13622220000", email="owner@example.com")
    merchant = make_merchant(owner=owner, stock_alert_channels=["insite", "sms", "email"])
    sku_id = make_product(merchant=merchant, stocks=(10,), threshold=5).skus[0].id

    with transaction():
        stock.reserve([(sku_id, 6)])  # 10 -> 4: below 5
    run_jobs()
    assert db.session.scalar(sa.select(sa.func.count(LowStockAlert.id))) == 1
    assert db.session.scalar(sa.select(Message.title).where(Message.recipient_id == owner.id)).startswith("库存不足")
    assert len(outbox.sms()) == 1 and "仅剩 4 件" in outbox.sms()[0]["text"]
    assert len(outbox.mails()) == 1

    with transaction():
        stock.reserve([(sku_id, 2)])  # still below: no second alert
    run_jobs()
    assert db.session.scalar(sa.select(sa.func.count(LowStockAlert.id))) == 1

    with transaction():
        stock.adjust(sku_id, 10, owner.id, "到货")  # back above: re-armed
        stock.reserve([(sku_id, 9)])  # 12 -> 3: a new dip
    run_jobs()
    assert db.session.scalar(sa.select(sa.func.count(LowStockAlert.id))) == 2
    assert len(outbox.sms()) == 2


def test_only_the_chosen_channels_and_the_job_is_idempotent(make_user, make_merchant, make_product, run_jobs, outbox):
    owner = make_user(phone="13622220001")
    merchant = make_merchant(owner=owner, stock_alert_channels=["insite"])
    sku_id = make_product(merchant=merchant, stocks=(6,), threshold=5).skus[0].id
    with transaction():
        stock.reserve([(sku_id, 2)])
    run_jobs()
    alert_id = db.session.scalar(sa.select(LowStockAlert.id))
    assert alerts.send_low_stock_alert(alert_id) == "skipped"  # a second run sends nothing
    assert outbox.sms() == [] and outbox.mails() == []
    assert db.session.scalar(sa.select(sa.func.count(Message.id)).where(Message.recipient_id == owner.id)) == 1


def test_a_new_sku_that_starts_below_its_threshold_alerts(make_user, make_merchant, make_category, run_jobs):
    from app.catalog import product_form, products

    owner = make_user()
    merchant = make_merchant(owner=owner, stock_alert_channels=["insite"])
    category = make_category()
    data = {"title": "限量手办", "category_id": category.id, "specs": [],
            "skus": [{"spec_values": {}, "price": "199", "stock": 2, "low_stock_threshold": 5}]}
    with transaction():
        products.save(owner, merchant.id, product_form.read(data))
    run_jobs()
    assert db.session.scalar(sa.select(sa.func.count(LowStockAlert.id))) == 1
    assert db.session.scalar(sa.select(Message.title).where(Message.recipient_id == owner.id)) == "库存不足：限量手办"


def test_an_alert_whose_job_was_lost_is_sent_by_the_sweep_once(make_user, make_merchant, make_product, redis_client,
                                                                run_jobs, outbox):
    """Redis came back empty (FLUSHDB) after the alert's job was queued: the sweep sends it."""
    from datetime import timedelta

    from app.core.clock import travel

    owner = make_user(phone="13622220009")
    merchant = make_merchant(owner=owner, stock_alert_channels=["insite", "sms"])
    sku_id = make_product(merchant=merchant, stocks=(6,), threshold=5).skus[0].id
    with transaction():
        stock.reserve([(sku_id, 2)])
    redis_client.flushdb()
    assert run_jobs() == 0
    alert_id = db.session.scalar(sa.select(LowStockAlert.id))

    assert alerts.sweep_unnotified_alerts() == 0  # within its minute: its job may just be late
    with travel(timedelta(minutes=2)):
        assert alerts.sweep_unnotified_alerts() == 1
        assert alerts.sweep_unnotified_alerts() == 0
        run_jobs()
    db.session.expire_all()
    assert db.session.get(LowStockAlert, alert_id).notified_at is not None
    assert len(outbox.sms()) == 1 and "仅剩 4 件" in outbox.sms()[0]["text"]
    assert db.session.scalar(sa.select(sa.func.count(Message.id)).where(Message.recipient_id == owner.id)) == 1
