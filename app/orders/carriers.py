"""The carriers a merchant can ship with, and what a tracking number looks like.

Codes are Kuaidi100's company codes (`com` in its query API), so a shipment's
`carrier_code` can be sent to the tracking provider as it is stored. The list
is the common mainland carriers; a code that is no longer listed still shows
(as itself) through `name_for`, so old shipments keep rendering.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _

from app.core.errors import ValidationError
from app.orders.errors import OrderError


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    # Other names merchants type in a spreadsheet ("顺丰", "中通快递" ...).
    aliases: tuple[str, ...] = ()


# Dropdown order: the big national express carriers first, then postal, then
# the rest.
CARRIERS: tuple[Carrier, ...] = (
    Carrier("shunfeng", "顺丰速运", ("顺丰", "顺丰快递", "SF")),
    Carrier("zhongtong", "中通快递", ("中通",)),
    Carrier("yuantong", "圆通速递", ("圆通", "圆通快递")),
    Carrier("shentong", "申通快递", ("申通",)),
    Carrier("yunda", "韵达快递", ("韵达",)),
    Carrier("jd", "京东物流", ("京东", "京东快递")),
    Carrier("youzhengguonei", "邮政快递包裹", ("邮政", "中国邮政", "邮政包裹")),
    Carrier("ems", "EMS", ("中国邮政EMS", "邮政EMS")),
    Carrier("jtexpress", "极兔速递", ("极兔", "极兔快递", "J&T")),
    Carrier("debangkuaidi", "德邦快递", ("德邦",)),
    Carrier("huitongkuaidi", "百世快递", ("百世", "百世汇通", "汇通")),
)

_BY_CODE = {c.code: c for c in CARRIERS}
# Lookup keys are case-folded so "SF", "sf" and "Shunfeng" all match.
_BY_TEXT = {key.casefold(): c for c in CARRIERS for key in (c.code, c.name, *c.aliases)}

TRACKING_NO = re.compile(r"^[A-Z0-9-]{6,32}$")


def get(code: str | None) -> Carrier | None:
    """The carrier with exactly this Kuaidi100 code, or None."""
    return _BY_CODE.get(code or "")


def find(text: str | None) -> Carrier | None:
    """The carrier named by a code, display name or common alias, ignoring
    case and surrounding spaces (for spreadsheets and API input), or None."""
    return _BY_TEXT.get((text or "").strip().casefold())


def choices() -> list[tuple[str, str]]:
    """`(code, display name)` pairs in dropdown order, for WTForms `choices`."""
    return [(c.code, c.name) for c in CARRIERS]


def name_for(code: str | None) -> str:
    """The display name for a code; an unlisted code is shown as itself."""
    carrier = get(code)
    return carrier.name if carrier else (code or "")


def normalise_tracking_no(text: str | None) -> str:
    """The tracking number as stored and sent to carriers: surrounding spaces
    removed and upper-cased, 6-32 characters of A-Z, 0-9 and "-".

    Raises `ValidationError` (field `tracking_no`) otherwise.
    """
    value = (text or "").strip().upper()
    if not TRACKING_NO.match(value):
        message = _("运单号应为 6-32 位字母、数字或短横线")
        raise ValidationError(message, code=OrderError.INVALID_TRACKING_NO, fields={"tracking_no": message})
    return value
