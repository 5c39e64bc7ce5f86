"""A row for the flash-sale lifecycle: a draft event."""
from __future__ import annotations

from datetime import timedelta

from app.core.clock import utcnow
from app.extensions import db
from app.flashsales.models import FlashSale
from tests.core.lifecycle_rows import row_maker


@row_maker("flash_sale")
def _flash_sale(request):
    now = utcnow()
    row = FlashSale(title="走查秒杀", starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2))
    db.session.add(row)
    db.session.flush()
    return FlashSale, row.id
