"""Steps that bring a request before the platform, the way buyer and shop get it there
(through the real services): shared by the domain's dispute tests and the admin pages'."""
from __future__ import annotations

from app.aftersales import disputes, services
from app.aftersales.models import AfterSale
from app.core.db import transaction
from tests.aftersales.conftest import apply, default_address_id, fresh, owner_of, receive, ship
from tests.factories import png_bytes


def rejected(order, quantity=1, kind="return_refund") -> AfterSale:
    """The buyer asks (with a photo), the shop says no."""
    aftersale = apply(order, kind=kind, quantity=quantity, description="收到时外壳开裂", images=[png_bytes()])
    with transaction():
        services.reject(owner_of(order), aftersale.aftersale_no, "商品出库时完好，不同意退货")
    return fresh(aftersale)


def escalate(aftersale, statement="商家拒绝退货，照片能看到裂痕") -> AfterSale:
    with transaction():
        disputes.escalate(aftersale.buyer_id, aftersale.aftersale_no, statement, [png_bytes(color=(0, 120, 200))])
    return fresh(aftersale)


def disputed(bought, quantity=2, asked=1, kind="return_refund", **buy) -> tuple:
    """(order, request): a received order whose request was rejected and escalated."""
    order = receive(ship(bought(quantity=quantity, **buy)))
    return order, escalate(rejected(order, asked, kind))


def shipped_back(order, kind="return_refund") -> AfterSale:
    """Approved with the shop's address and sent back by the buyer (the shop has not confirmed it)."""
    aftersale = apply(order, kind=kind)
    with transaction():
        services.approve(owner_of(order), aftersale.aftersale_no, default_address_id(order))
    with transaction():
        services.ship_back(order.buyer_id, aftersale.aftersale_no, "shunfeng", "SF3141592653")
    return fresh(aftersale)
