"""Running a shop: settings, logo, staff. Every write checks the acting member's
role here (the owner manages settings and staff), so a page, an API call or a
job get the same answer."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app.accounts.models import User
from app.accounts.services import find_by_phone
from app.accounts.validation import normalise_phone
from app.catalog.categories import PLATFORM_FEE_MAX_BP, PLATFORM_FEE_MIN_BP, bp_to_percent, percent_to_bp
from app.core import audit, page_cache, storage
from app.core.db import add_unique
from app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from app.core.money import InvalidAmount, yuan_to_fen
from app.extensions import db
from app.merchants import policies
from app.merchants.errors import MerchantError
from app.merchants.models import Merchant, MerchantMember
from app.merchants.states import AlertChannel, MemberRole, MerchantStatus
from app.notifications import services as notifications


def get_merchant(merchant_id: int) -> Merchant:
    merchant = db.session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound(_("店铺不存在"), code=MerchantError.MERCHANT_NOT_FOUND)
    return merchant


def require_member(user: User, merchant_id: int) -> MerchantMember:
    """The user's membership of this shop; anyone else gets NotFound (the shop's
    existence is not revealed to outsiders)."""
    member = policies.membership(user.id, merchant_id)
    if member is None:
        raise NotFound(_("店铺不存在"), code=MerchantError.MERCHANT_NOT_FOUND)
    return member


def require_owner(user: User, merchant_id: int) -> MerchantMember:
    member = require_member(user, merchant_id)
    if not policies.may_manage_shop(member):
        raise Forbidden(_("只有店主可以进行这个操作"), code=MerchantError.OWNER_ONLY)
    return member


def _yuan_field(raw, field: str, errors: dict, allow_empty: bool) -> int | None:
    text = str(raw if raw is not None else "").strip()
    if not text:
        if allow_empty:
            return None
        errors[field] = _("必填")
        return None
    try:
        return yuan_to_fen(text)
    except InvalidAmount:
        errors[field] = _("请输入正确的金额（最多两位小数）")
        return None


def update_settings(user: User, merchant_id: int, data: dict, logo: bytes | None = None) -> Merchant:
    """Name, logo, description, contact, return address, shipping rule, stock alert channels."""
    require_owner(user, merchant_id)
    merchant = get_merchant(merchant_id)
    errors: dict[str, str] = {}
    name = str(data.get("name") or "").strip()
    if not 2 <= len(name) <= 30:
        errors["name"] = _("店铺名称为 2 到 30 个字")
    elif name != merchant.name and db.session.scalar(
        sa.select(sa.func.count(Merchant.id)).where(Merchant.name == name, Merchant.id != merchant.id)
    ):
        errors["name"] = _("店铺名称已被使用")
    description = str(data.get("description") or "").strip()
    if len(description) > 500:
        errors["description"] = _("最多 %(n)d 个字", n=500)
    contact_name = str(data.get("contact_name") or "").strip()
    if not 1 <= len(contact_name) <= 20:
        errors["contact_name"] = _("请填写联系人")
    contact_phone = return_phone = None
    try:
        contact_phone = normalise_phone(str(data.get("contact_phone") or ""), "contact_phone")
    except ValidationError as exc:
        errors["contact_phone"] = exc.message
    return_recipient = str(data.get("return_recipient") or "").strip()[:20]
    return_address = str(data.get("return_address") or "").strip()
    if data.get("return_phone"):
        try:
            return_phone = normalise_phone(str(data["return_phone"]), "return_phone")
        except ValidationError as exc:
            errors["return_phone"] = exc.message
    if len(return_address) > 200:
        errors["return_address"] = _("最多 %(n)d 个字", n=200)
    if any([return_recipient, return_address, return_phone]) and not all([return_recipient, return_address, return_phone]):
        errors["return_address"] = _("退货地址需填写收件人、电话和详细地址")
    flat = _yuan_field(data.get("shipping_flat_yuan"), "shipping_flat_yuan", errors, allow_empty=False)
    threshold = _yuan_field(data.get("free_shipping_threshold_yuan"), "free_shipping_threshold_yuan", errors,
                            allow_empty=True)
    if threshold is not None and threshold <= 0:
        errors["free_shipping_threshold_yuan"] = _("包邮门槛必须大于 0，不设门槛请留空")
    channels = [c for c in (data.get("stock_alert_channels") or []) if c]
    if any(c not in tuple(AlertChannel) for c in channels):
        errors["stock_alert_channels"] = _("请选择有效的提醒方式")
    logo_checked = False
    if logo:
        try:
            storage.check_image(logo)
            logo_checked = True
        except ValidationError as exc:
            errors["logo"] = exc.message
    if errors:
        raise ValidationError(next(iter(errors.values())), fields=errors)
    before = _snapshot(merchant)
    merchant.name = name
    merchant.description = description
    merchant.contact_name = contact_name
    merchant.contact_phone = contact_phone
    merchant.return_recipient = return_recipient
    merchant.return_phone = return_phone or ""
    merchant.return_address = return_address
    merchant.shipping_flat_fen = flat or 0
    merchant.free_shipping_threshold_fen = threshold
    merchant.stock_alert_channels = list(dict.fromkeys(channels))
    old_logo = new_logo = None
    if logo_checked:
        old_logo = merchant.logo_key
        new_logo = merchant.logo_key = storage.save_image(logo, "logos").key
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        if new_logo:
            storage.delete_stored(new_logo)  # the row keeps its old logo; drop the orphan
        raise ValidationError(_("店铺名称已被使用"), fields={"name": _("店铺名称已被使用")}) from None
    if old_logo:
        storage.delete_stored(old_logo)  # only once the new settings are written
    changes = audit.diff(before, _snapshot(merchant))
    if changes:
        audit.record(user, "merchant.settings", merchant, changes)
        page_cache.everything_changed()  # the shop's name and logo: home strip, product pages' shop card
    return merchant


def set_aftersale_auto_refund(user: User, merchant_id: int, enabled: bool) -> Merchant:
    """未发货仅退款自动同意: whether a refund-only asked before shipping is refunded at once
    (`aftersales.services`) or waits for the shop like any other request. Audited as a
    settings change."""
    require_owner(user, merchant_id)
    merchant = get_merchant(merchant_id)
    enabled = bool(enabled)
    if merchant.aftersale_auto_refund != enabled:
        audit.record(user, "merchant.settings", merchant,
                     {"aftersale_auto_refund": [merchant.aftersale_auto_refund, enabled]})
        merchant.aftersale_auto_refund = enabled
        db.session.flush()
    return merchant


def set_platform_fee(actor, merchant_id: int, raw) -> Merchant:
    """The platform's own fee rate for this shop, overriding its products' category rates:
    `raw` is a percentage as typed ("5", "0.6", "12.5"), 0–30 with at most two decimals,
    kept in basis points; blank (or None) goes back to each product's category rate.
    Finance (`fees.edit`) only; audited when it changes. Orders already placed keep the
    rate checkout wrote on their items."""
    if not policies.may_set_fee(actor):
        raise Forbidden(_("只有财务管理员可以设置平台服务费率"), code=MerchantError.FORBIDDEN)
    merchant = get_merchant(merchant_id)
    text = "" if raw is None else str(raw).strip()
    bp = percent_to_bp(text) if text else None
    if text and bp is None:
        message = _("服务费率请填 %(low)s 到 %(high)s 之间的百分比（如 5 或 0.6），最多两位小数，留空则按商品类目费率",
                    low=bp_to_percent(PLATFORM_FEE_MIN_BP), high=bp_to_percent(PLATFORM_FEE_MAX_BP))
        raise ValidationError(message, code=MerchantError.INVALID_PLATFORM_FEE, fields={"platform_fee": message})
    if merchant.platform_fee_bp != bp:
        audit.record(actor, "merchant.platform_fee", merchant, {"platform_fee_bp": [merchant.platform_fee_bp, bp]})
        merchant.platform_fee_bp = bp
        db.session.flush()
    return merchant


def _snapshot(merchant: Merchant) -> dict:
    return {
        "name": merchant.name, "description": merchant.description, "contact_name": merchant.contact_name,
        "contact_phone": merchant.contact_phone, "return_address": merchant.return_address,
        "shipping_flat_fen": merchant.shipping_flat_fen,
        "free_shipping_threshold_fen": merchant.free_shipping_threshold_fen,
        "stock_alert_channels": list(merchant.stock_alert_channels or []), "logo_key": merchant.logo_key,
    }


def staff_of(merchant_id: int) -> list[MerchantMember]:
    return list(db.session.scalars(
        sa.select(MerchantMember).where(MerchantMember.merchant_id == merchant_id)
        .order_by(MerchantMember.role.desc(), MerchantMember.id)  # owner first
    ))


def invite_staff(owner: User, merchant_id: int, phone_text: str) -> MerchantMember:
    """Add the user with that phone as staff. They must already have an account."""
    require_owner(owner, merchant_id)
    phone = normalise_phone(phone_text)
    user = find_by_phone(phone)
    if user is None:
        message = _("这个手机号还没有注册，请对方先注册账号")
        raise ValidationError(message, code=MerchantError.USER_NOT_FOUND, fields={"phone": message})
    if policies.membership(user.id, merchant_id) is not None:
        message = _("对方已经是本店成员")
        raise Conflict(message, code=MerchantError.ALREADY_MEMBER, fields={"phone": message})
    merchant = get_merchant(merchant_id)
    member = MerchantMember(merchant_id=merchant_id, user_id=user.id, role=MemberRole.STAFF)
    add_unique(member, Conflict(_("对方已经是本店成员"), code=MerchantError.ALREADY_MEMBER))
    audit.record(owner, "merchant.staff_add", merchant, {"staff": [None, user.id]})
    notifications.notify(user.id, _("你已成为「%(name)s」的店员", name=merchant.name),
                         _("打开商家中心即可开始工作。"), link="/merchant/", kind="merchant")
    return member


def remove_staff(owner: User, merchant_id: int, member_id: int) -> None:
    require_owner(owner, merchant_id)
    member = db.session.scalar(sa.select(MerchantMember).where(
        MerchantMember.id == member_id, MerchantMember.merchant_id == merchant_id))
    if member is None:
        raise NotFound(_("店员不存在"), code=MerchantError.MEMBER_NOT_FOUND)
    if member.role == MemberRole.OWNER:
        raise Conflict(_("不能移除店主"), code=MerchantError.CANNOT_REMOVE_OWNER)
    merchant = get_merchant(merchant_id)
    user_id = member.user_id
    db.session.delete(member)
    db.session.flush()
    audit.record(owner, "merchant.staff_remove", merchant, {"staff": [user_id, None]})
    notifications.notify(user_id, _("你已不再是「%(name)s」的店员", name=merchant.name), kind="merchant")


def leave_all_as_staff(user: User) -> None:
    """The user is deleting their account: they stop being staff of any shop (each
    shop's audit log says so). Ownership rows stay as the record of who owned a closed shop."""
    members = list(db.session.scalars(sa.select(MerchantMember).where(
        MerchantMember.user_id == user.id, MerchantMember.role == MemberRole.STAFF)))
    for member in members:
        audit.record(user, "merchant.staff_leave", (Merchant.__name__, member.merchant_id),
                     {"staff": [user.id, None]}, note="account deleted")
        db.session.delete(member)
    db.session.flush()


def is_open(merchant: Merchant) -> bool:
    """Open for business: listed on the storefront and orderable."""
    return merchant.status == MerchantStatus.ACTIVE
