"""The address book. Guarantees: a user only ever reads or changes their own
addresses (another user's id is NotFound); region codes must form a real
province/city/district triple; exactly one default address while any exist."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from app.accounts import regions
from app.accounts.errors import AccountError
from app.accounts.models import Address
from app.accounts.validation import normalise_phone
from app.core.errors import NotFound, ValidationError
from app.extensions import db

MAX_ADDRESSES = 20
FIELDS = ("recipient", "phone", "province_code", "city_code", "district_code", "detail", "is_default")


def list_for(user_id: int) -> list[Address]:
    return list(db.session.scalars(
        sa.select(Address).where(Address.user_id == user_id)
        .order_by(Address.is_default.desc(), Address.id.desc())
    ))


def get_own(user_id: int, address_id: int) -> Address:
    address = db.session.scalar(sa.select(Address).where(Address.id == address_id, Address.user_id == user_id))
    if address is None:
        raise NotFound(_("地址不存在"), code=AccountError.ADDRESS_NOT_FOUND)
    return address


def _clean(data: dict, partial_of: Address | None = None) -> dict:
    """Validate the fields given; with `partial_of`, fill the rest from it."""
    merged = {f: getattr(partial_of, f) for f in FIELDS} if partial_of else {}
    merged.update({k: v for k, v in data.items() if k in FIELDS and v is not None})
    errors: dict[str, str] = {}
    recipient = str(merged.get("recipient") or "").strip()
    if not 1 <= len(recipient) <= 20:
        errors["recipient"] = _("请填写收货人（最多 20 个字）")
    try:
        phone = normalise_phone(str(merged.get("phone") or ""))
    except ValidationError as exc:
        errors["phone"] = exc.message
        phone = None
    detail = str(merged.get("detail") or "").strip()
    if not 2 <= len(detail) <= 120:
        errors["detail"] = _("请填写详细地址（2 到 120 个字）")
    region = regions.resolve(str(merged.get("province_code") or ""), str(merged.get("city_code") or ""),
                             str(merged.get("district_code") or ""))
    if region is None:
        errors["district_code"] = _("请选择完整的省、市、区")
    if errors:
        raise ValidationError(next(iter(errors.values())), fields=errors)
    return {
        "recipient": recipient, "phone": phone, "detail": detail,
        "province_code": region.province_code, "province": region.province,
        "city_code": region.city_code, "city": region.city,
        "district_code": region.district_code, "district": region.district,
        "is_default": bool(merged.get("is_default")),
    }


def _make_default(user_id: int, address: Address) -> None:
    db.session.execute(
        sa.update(Address).where(Address.user_id == user_id, Address.id != address.id).values(is_default=False)
    )
    address.is_default = True


def add(user_id: int, data: dict) -> Address:
    count = db.session.scalar(sa.select(sa.func.count(Address.id)).where(Address.user_id == user_id)) or 0
    if count >= MAX_ADDRESSES:
        raise ValidationError(_("最多保存 %(n)d 个地址", n=MAX_ADDRESSES), code=AccountError.TOO_MANY_ADDRESSES)
    values = _clean(data)
    address = Address(user_id=user_id, **values)
    db.session.add(address)
    db.session.flush()
    if values["is_default"] or count == 0:
        _make_default(user_id, address)
    db.session.flush()
    return address


def update(user_id: int, address_id: int, data: dict) -> Address:
    address = get_own(user_id, address_id)
    was_default = address.is_default
    values = _clean(data, partial_of=address)
    for key, value in values.items():
        setattr(address, key, value)
    if values["is_default"]:
        _make_default(user_id, address)
    elif was_default:
        address.is_default = True  # a default is unset only by choosing another one
    db.session.flush()
    return address


def delete(user_id: int, address_id: int) -> None:
    address = get_own(user_id, address_id)
    was_default = address.is_default
    db.session.delete(address)
    db.session.flush()
    if was_default:
        successor = db.session.scalar(
            sa.select(Address).where(Address.user_id == user_id).order_by(Address.id.desc()).limit(1)
        )
        if successor is not None:
            successor.is_default = True
            db.session.flush()


def set_default(user_id: int, address_id: int) -> Address:
    address = get_own(user_id, address_id)
    _make_default(user_id, address)
    db.session.flush()
    return address
