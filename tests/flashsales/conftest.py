"""Fixtures for flash-sale tests: an operator, a scheduled event made through the real
services (so its stock is carved out as in production), and Redis loaded from it."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.clock import utcnow
from app.core.db import transaction
from app.extensions import db
from app.flashsales import policies, redis_sync, services
from app.flashsales.models import FlashSale


@pytest.fixture
def operator(make_user):
    return make_user(admin_role="operator")


@pytest.fixture
def make_flash_sale(operator, make_product):
    """`make_flash_sale(stock=10, limit=1, price_fen=100, sku_stock=50, starts_in=-5 min, lasts=1 h,
    product=None, load=True)` -> (sale, item): a platform event, published (scheduled, its
    stock carved out) and loaded into Redis as the job after the commit would."""

    def make(stock: int = 10, limit: int = 1, price_fen: int = 100, sku_stock: int = 50,
             starts_in: timedelta = timedelta(minutes=-5), lasts: timedelta = timedelta(hours=1),
             product=None, load: bool = True):
        product = product or make_product(stocks=(sku_stock,), price_fen=9900)
        sku = product.skus[0]
        actor = policies.platform(operator)
        starts = utcnow() + starts_in
        with transaction():
            sale = services.create(actor, {
                "title": "整点秒杀", "starts_at": starts if starts_in >= timedelta(0) else utcnow() + timedelta(minutes=1),
                "ends_at": starts + lasts,
                "items": [{"sku_id": sku.id, "price_fen": price_fen, "stock": stock, "per_buyer_limit": limit}]})
            sale_id = sale.id
        with transaction():
            services.publish(actor, sale_id)
        if starts_in < timedelta(0):  # already running: the start is moved back by hand
            db.session.execute(FlashSale.__table__.update().where(FlashSale.id == sale_id).values(starts_at=starts))
            db.session.commit()
        db.session.expire_all()
        sale = db.session.get(FlashSale, sale_id)
        if load:
            redis_sync.rebuild_sale(sale_id)
        return sale, sale.items[0]

    return make
