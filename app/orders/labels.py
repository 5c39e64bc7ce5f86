"""What order statuses are called and their badge colours, on every surface.

The buyer and the shop word one status differently: a shipped order is 待收货 to
the buyer (their next step) and 已发货 to the merchant (done on their side), so
`label(status, "buyer")` and `label(status, "merchant")` differ there (and a
distributor, who only follows the money, reads a paid order as 已付款); the admin
console words statuses as the merchant console does ("default"). Tones follow
UI.md: waiting grey, paid (the money is in) and received or done green, on its way
blue, ended red.

`order_step` names the steps of an order's timeline (an `OrderEvent` by the status
it moved to): the buyer reads 提交订单 / 已付款…, the consoles 买家下单 / 买家付款…;
its tone marks the steps that ended the order.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.core.labels import StatusLabels, Tone
from app.orders.states import OrderStatus, StockDeduction

S = OrderStatus

ORDER = StatusLabels(
    "order",
    {
        S.PENDING_PAYMENT: _l("待付款"),
        S.PAID: {"default": _l("待发货"), "distributor": _l("已付款")},
        S.SHIPPED: {"default": _l("已发货"), "merchant": _l("已发货"), "buyer": _l("待收货")},
        S.RECEIVED: _l("已收货"),
        S.COMPLETED: _l("已完成"),
        S.CANCELLED: _l("已取消"),
        S.CLOSED: _l("已关闭"),
    },
    {
        S.PENDING_PAYMENT: Tone.PENDING, S.PAID: Tone.GOOD, S.SHIPPED: Tone.REVIEW, S.RECEIVED: Tone.GOOD,
        S.COMPLETED: Tone.GOOD, S.CANCELLED: Tone.BAD, S.CLOSED: Tone.BAD,
    },
)

ORDER_STEP = StatusLabels(
    "order_step",
    {
        S.PENDING_PAYMENT: {"default": _l("买家下单"), "buyer": _l("提交订单")},
        S.PAID: {"default": _l("买家付款"), "buyer": _l("已付款")},
        S.SHIPPED: {"default": _l("商家发货"), "buyer": _l("已发货")},
        S.RECEIVED: {"default": _l("确认收货"), "buyer": _l("已收货")},
        S.COMPLETED: _l("交易完成"),
        S.CANCELLED: {"default": _l("订单取消"), "buyer": _l("已取消")},
        S.CLOSED: {"default": _l("订单关闭"), "buyer": _l("已关闭")},
    },
    {
        S.PENDING_PAYMENT: Tone.PENDING, S.PAID: Tone.GOOD, S.SHIPPED: Tone.GOOD, S.RECEIVED: Tone.GOOD,
        S.COMPLETED: Tone.GOOD, S.CANCELLED: Tone.BAD, S.CLOSED: Tone.BAD,
    },
)

# How the order takes its stock (shown on the admin order page).
ORDER_STOCK_MODE = StatusLabels(
    "order_stock_mode",
    {StockDeduction.ON_ORDER: _l("下单减库存"), StockDeduction.ON_PAYMENT: _l("付款减库存")},
    {StockDeduction.ON_ORDER: Tone.PENDING, StockDeduction.ON_PAYMENT: Tone.PENDING},
)
