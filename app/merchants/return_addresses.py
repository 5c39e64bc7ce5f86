"""The shop's return addresses (退货地址): where buyers send goods back. After-sales
approvals pick one (`aftersales.services.approve`), deadlines and rulings use the default.

Guarantees:
- Only the shop's owner writes them (like every shop setting); each write is audited.
- At most MAX_ADDRESSES per shop; recipient 2–20 characters, a mainland mobile number
  (stored +86...), the address 5–200 characters, an optional label up to 20.
- A shop with addresses has exactly one default: the first one added is it, setting
  another moves it, deleting it passes it to the oldest one left. The shop's row is
  locked while they change, so two owners' tabs cannot leave two defaults or eleven
  addresses.
- Requests already approved keep the address they were given (a snapshot), so editing
  or deleting one never changes where a parcel on its way should go.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from app.accounts.models import User
from app.accounts.validation import normalise_phone
from app.core import audit
from app.core.errors import Conflict, NotFound, ValidationError
from app.extensions import db
from app.merchants.errors import MerchantError
from app.merchants.models import Merchant, MerchantAddress
from app.merchants.shops import require_owner

MAX_ADDRESSES = 10
RECIPIENT_LENGTH = (2, 20)
ADDRESS_LENGTH = (5, 200)
LABEL_MAX = 20


def of_merchant(merchant_id: int) -> list[MerchantAddress]:
    """The shop's addresses, the default first, then oldest first."""
    return list(db.session.scalars(sa.select(MerchantAddress).where(MerchantAddress.merchant_id == merchant_id)
                                   .order_by(MerchantAddress.is_default.desc(), MerchantAddress.id)))


def read(data) -> dict:
    """The fields as typed (trimmed, bounded), for the checks and for re-showing a form."""
    return {name: str(data.get(name) or "").strip()[:limit]
            for name, limit in (("label", 40), ("recipient", 40), ("phone", 30), ("address", 400))}


def _checked(data) -> dict:
    values = read(data)
    errors = {}
    if not RECIPIENT_LENGTH[0] <= len(values["recipient"]) <= RECIPIENT_LENGTH[1]:
        errors["recipient"] = _("收件人为 %(a)d 到 %(b)d 个字", a=RECIPIENT_LENGTH[0], b=RECIPIENT_LENGTH[1])
    try:
        values["phone"] = normalise_phone(values["phone"])
    except ValidationError as exc:
        errors["phone"] = exc.message
    if not ADDRESS_LENGTH[0] <= len(values["address"]) <= ADDRESS_LENGTH[1]:
        errors["address"] = _("详细地址为 %(a)d 到 %(b)d 个字", a=ADDRESS_LENGTH[0], b=ADDRESS_LENGTH[1])
    if len(values["label"]) > LABEL_MAX:
        errors["label"] = _("备注名最多 %(n)d 个字", n=LABEL_MAX)
    if errors:
        raise ValidationError(next(iter(errors.values())), code=MerchantError.INVALID_RETURN_ADDRESS, fields=errors)
    return values


def _lock_shop(merchant_id: int) -> None:
    """Serialise the shop's address writes (the count and the one default)."""
    db.session.execute(sa.select(Merchant.id).where(Merchant.id == merchant_id).with_for_update())


def _get(merchant_id: int, address_id) -> MerchantAddress:
    address = db.session.scalar(sa.select(MerchantAddress).where(MerchantAddress.id == address_id,
                                                                 MerchantAddress.merchant_id == merchant_id))
    if address is None:
        raise NotFound(_("退货地址不存在"), code=MerchantError.RETURN_ADDRESS_NOT_FOUND)
    return address


def _snapshot(address: MerchantAddress) -> dict:
    return {"label": address.label, "recipient": address.recipient, "phone": address.phone,
            "address": address.address, "is_default": address.is_default}


def add(user: User, merchant_id: int, data, make_default: bool = False) -> MerchantAddress:
    """Add an address; the shop's first one (or one asked to be) becomes the default."""
    require_owner(user, merchant_id)
    values = _checked(data)
    _lock_shop(merchant_id)
    count = db.session.scalar(sa.select(sa.func.count(MerchantAddress.id))
                              .where(MerchantAddress.merchant_id == merchant_id)) or 0
    if count >= MAX_ADDRESSES:
        raise Conflict(_("最多保存 %(n)d 个退货地址，请先删除不用的地址", n=MAX_ADDRESSES),
                       code=MerchantError.TOO_MANY_RETURN_ADDRESSES)
    address = MerchantAddress(merchant_id=merchant_id, is_default=False, **values)
    db.session.add(address)
    db.session.flush()
    if make_default or count == 0:
        _make_default(merchant_id, address.id)
    audit.record(user, "merchant.return_address_add", (Merchant.__name__, merchant_id),
                 {"return_address": [None, _snapshot(address)]})
    return address


def update(user: User, merchant_id: int, address_id: int, data) -> MerchantAddress:
    """Change an address's label, recipient, phone and address (not which one is default)."""
    require_owner(user, merchant_id)
    values = _checked(data)
    _lock_shop(merchant_id)
    address = _get(merchant_id, address_id)
    before = _snapshot(address)
    for name, value in values.items():
        setattr(address, name, value)
    db.session.flush()
    changes = audit.diff(before, _snapshot(address))
    if changes:
        audit.record(user, "merchant.return_address_edit", (Merchant.__name__, merchant_id), changes,
                     note=str(address.id))
    return address


def delete(user: User, merchant_id: int, address_id: int) -> None:
    """Remove an address; when it was the default, the oldest one left takes over."""
    require_owner(user, merchant_id)
    _lock_shop(merchant_id)
    address = _get(merchant_id, address_id)
    was_default, before = address.is_default, _snapshot(address)
    db.session.delete(address)
    db.session.flush()
    if was_default:
        oldest = db.session.scalar(sa.select(MerchantAddress.id).where(MerchantAddress.merchant_id == merchant_id)
                                   .order_by(MerchantAddress.id).limit(1))
        if oldest is not None:
            _make_default(merchant_id, oldest)
    audit.record(user, "merchant.return_address_delete", (Merchant.__name__, merchant_id),
                 {"return_address": [before, None]})


def set_default(user: User, merchant_id: int, address_id: int) -> MerchantAddress:
    """Make this address the one preselected on approvals and used by deadlines."""
    require_owner(user, merchant_id)
    _lock_shop(merchant_id)
    address = _get(merchant_id, address_id)
    if not address.is_default:
        _make_default(merchant_id, address.id)
        audit.record(user, "merchant.return_address_default", (Merchant.__name__, merchant_id),
                     {"default_return_address": [None, address.id]})
    db.session.refresh(address)
    return address


def _make_default(merchant_id: int, address_id: int) -> None:
    db.session.execute(sa.update(MerchantAddress).where(MerchantAddress.merchant_id == merchant_id)
                       .values(is_default=MerchantAddress.id == address_id)
                       .execution_options(synchronize_session=False))
    db.session.expire_all()
