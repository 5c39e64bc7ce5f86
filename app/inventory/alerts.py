"""Low-stock alerts: one per SKU each time it falls below its threshold, sent to
the merchant on every channel the shop chose (in-site, SMS, mail) by an RQ job
after commit. The job is safe to run twice: an alert already notified is skipped.
An alert whose job was lost (Redis down) is sent by `sweep_unnotified_alerts`."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from app.accounts.models import User
from app.catalog.models import Product, Sku
from app.core.clock import utcnow
from app.core.db import each
from app.core.jobs import enqueue_after_commit
from app.extensions import db
from app.inventory import queries
from app.inventory.models import LowStockAlert
from app.merchants.models import Merchant, MerchantMember
from app.merchants.states import MemberRole
from app.notifications import services as notifications


def open_alert(sku_id: int) -> LowStockAlert:
    sku = db.session.get(Sku, sku_id)
    db.session.refresh(sku)
    product = db.session.get(Product, sku.product_id)
    merchant = db.session.get(Merchant, product.merchant_id)
    alert = LowStockAlert(merchant_id=merchant.id, sku_id=sku.id, stock=sku.stock, threshold=sku.low_stock_threshold,
                          channels=list(merchant.stock_alert_channels or []))
    db.session.add(alert)
    db.session.flush()
    enqueue_after_commit(send_low_stock_alert, alert.id, queue="default")
    return alert


def send_low_stock_alert(alert_id: int) -> str:
    """Tell the merchant's owner about one alert on its channels (once): the job's body,
    run in the job's unit of work. Flushes only."""
    claimed = db.session.execute(
        sa.update(LowStockAlert).where(LowStockAlert.id == alert_id, LowStockAlert.notified_at.is_(None))
        .values(notified_at=utcnow())
    ).rowcount
    if not claimed:
        return "skipped"
    alert = db.session.get(LowStockAlert, alert_id)
    sku = db.session.get(Sku, alert.sku_id)
    product = db.session.get(Product, sku.product_id)
    owner_ids = db.session.scalars(sa.select(MerchantMember.user_id).where(
        MerchantMember.merchant_id == alert.merchant_id, MerchantMember.role == MemberRole.OWNER)).all()
    title = _("库存不足：%(t)s", t=product.title)
    spec = f"（{sku.spec_text}）" if sku.spec_text else ""
    body = _("%(t)s%(s)s 仅剩 %(n)d 件，低于提醒值 %(m)d。", t=product.title, s=spec, n=alert.stock, m=alert.threshold)
    for user_id in owner_ids:
        user = db.session.get(User, user_id)
        if "insite" in alert.channels:
            notifications.notify(user.id, title, body, link="/merchant/inventory?filter=low", kind="low_stock")
        if "sms" in alert.channels and user.phone:
            notifications.send_sms(user.phone, "notice", {"text": f"{title}。{body}"})
        if "email" in alert.channels and user.email:
            notifications.send_mail(user.email, "notice", {"text": body}, subject=title)
    return "sent"


def _send_alert(alert_id: int) -> bool:
    return send_low_stock_alert(alert_id) == "sent"


def sweep_unnotified_alerts(older_than_seconds: int = 60, limit: int = 200) -> int:
    """Every 5 minutes: send the alerts still not notified a minute after they fired
    (their job was lost). Each is claimed by `send_low_stock_alert`, so an alert
    whose job runs late as well is sent once. Alerts older than a day are left:
    the stock they report is history by then."""
    return each(queries.unnotified_alert_ids(older_than_seconds, limit), _send_alert, "low-stock alert")
