"""Shop settings (owner only): name, logo, description, contact, shipping rule and stock
alert channels in one form; beside it the return addresses (退货地址: list, add, edit,
delete, set default, each its own small HTMX form that swaps the address card) and the
after-sales switch 未发货仅退款自动同意. A rejected form keeps what was typed."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.db import transaction
from app.core.errors import DomainError
from app.core.htmx import is_htmx, with_toast
from app.core.money import InvalidAmount, fen_to_yuan, format_yuan, yuan_to_fen
from app.merchants import return_addresses, shops
from app.merchants.states import AlertChannel
from app.web.merchant.blueprint import bp
from app.web.merchant.context import merchant_required

TEXT_FIELDS = ("name", "description", "contact_name", "contact_phone", "shipping_flat_yuan",
               "free_shipping_threshold_yuan")
# The single return address on the shop's profile came before the address book (migration
# 0010 copied it there); the form no longer edits it, so a save keeps it as it is (it is
# only the fallback of `aftersales.services.default_address` for a shop with no address).
PROFILE_RETURN_FIELDS = ("return_recipient", "return_phone", "return_address")


def _local(phone: str | None) -> str:
    return phone[3:] if phone and phone.startswith("+86") else (phone or "")


def form_values(merchant) -> dict:
    """What the form shows for the saved shop (phones local, money in yuan)."""
    threshold = merchant.free_shipping_threshold_fen
    return {
        "name": merchant.name, "description": merchant.description or "",
        "contact_name": merchant.contact_name, "contact_phone": _local(merchant.contact_phone),
        "return_recipient": merchant.return_recipient or "", "return_phone": _local(merchant.return_phone),
        "return_address": merchant.return_address or "",
        "shipping_flat_yuan": fen_to_yuan(merchant.shipping_flat_fen or 0),
        "free_shipping_threshold_yuan": fen_to_yuan(threshold) if threshold is not None else "",
        "stock_alert_channels": list(merchant.stock_alert_channels or []),
    }


def shipping_rule_text(flat_fen: int | None, threshold_fen: int | None) -> str:
    """The shipping rule in words, as buyers will read it."""
    if not flat_fen:
        return _("全店包邮")
    if threshold_fen is None:
        return _("每单运费 %(fee)s，不设包邮门槛", fee=format_yuan(flat_fen))
    return _("每单运费 %(fee)s，商品满 %(min)s 包邮", fee=format_yuan(flat_fen), min=format_yuan(threshold_fen))


def _rule_from_text(flat_text: str, threshold_text: str) -> str | None:
    """The rule for what is being typed, or None while the amounts are not valid."""
    try:
        flat = yuan_to_fen(flat_text) if flat_text.strip() else None
        threshold = yuan_to_fen(threshold_text) if threshold_text.strip() else None
    except InvalidAmount:
        return None
    if flat is None or threshold == 0:
        return None
    return shipping_rule_text(flat, threshold)


def _page(values: dict, errors: dict | None = None, status: int = 200, **address_context):
    merchant = g.merchant
    rule = _rule_from_text(values.get("shipping_flat_yuan", ""), values.get("free_shipping_threshold_yuan", ""))
    return render_template(
        "merchant/settings/index.html", merchant=merchant, values=values, errors=errors or {},
        rule=rule, channels=[(AlertChannel.INSITE, _("站内信")), (AlertChannel.SMS, _("短信")), (AlertChannel.EMAIL, _("邮件"))],
        **_addresses_context(**address_context),
    ), status


@bp.get("/settings")
@merchant_required(owner_only=True)
def settings():
    return _page(form_values(g.merchant))


@bp.post("/settings")
@merchant_required(owner_only=True)
def settings_save():
    values = {name: request.form.get(name, "") for name in TEXT_FIELDS}
    saved = form_values(g.merchant)
    values.update({name: saved[name] for name in PROFILE_RETURN_FIELDS})
    values["stock_alert_channels"] = request.form.getlist("stock_alert_channels")
    upload = request.files.get("logo")
    logo = upload.read() if upload and upload.filename else None
    try:
        with transaction():
            shops.update_settings(current_user._get_current_object(), g.merchant.id, values, logo=logo)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        errors = dict(exc.fields or {})
        if not errors:
            flash(exc.message, "danger")
        return _page(values, errors, status=422)
    flash(_("店铺设置已保存"), "success")
    return redirect(url_for("merchant.settings"))


@bp.get("/settings/shipping-rule")
@merchant_required(owner_only=True)
def settings_shipping_rule():
    """The rule in words while the owner types (HTMX)."""
    rule = _rule_from_text(request.args.get("shipping_flat_yuan", ""), request.args.get("free_shipping_threshold_yuan", ""))
    return render_template("merchant/settings/_shipping_rule.html", rule=rule)


# --- return addresses and the after-sales switch --------------------------------------------

def _addresses_context(editing: int | None = None, address_values: dict | None = None,
                       address_errors: dict | None = None) -> dict:
    """The address card's context: the book, and the form being typed in (`editing`: an
    address id, 0 for the new one) with its values and errors."""
    return {"addresses": return_addresses.of_merchant(g.merchant.id), "max_addresses": return_addresses.MAX_ADDRESSES,
            "editing": editing, "address_values": address_values or {}, "address_errors": address_errors or {},
            "local_phone": _local}


def _addresses_answer(message: str, level: str = "success", status: int = 200, **context):
    """The address card for HTMX (with a toast), else the settings page (a redirect when it worked)."""
    if is_htmx():
        html = render_template("merchant/settings/_return_addresses.html", merchant=g.merchant,
                               **_addresses_context(**context))
        return with_toast(html, message, level)
    if level == "success":
        flash(message, "success")
        return redirect(url_for("merchant.settings", _anchor="return-addresses"))
    flash(message, "danger")
    return _page(form_values(g.merchant), status=status, **context)


def _address_write(write, success: str, editing: int | None = None):
    """Run one address write; a refusal re-shows the form that was typed in (nothing saved)."""
    try:
        with transaction():
            write(current_user._get_current_object(), g.merchant.id)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        values = return_addresses.read(request.form)
        return _addresses_answer(exc.message, "danger", 422, editing=editing, address_values=values,
                                 address_errors=dict(exc.fields or {}))
    return _addresses_answer(success)


@bp.post("/settings/return-addresses")
@merchant_required(owner_only=True)
def return_address_add():
    return _address_write(
        lambda user, merchant_id: return_addresses.add(user, merchant_id, request.form,
                                                       make_default=request.form.get("is_default") == "1"),
        _("退货地址已添加"), editing=0)


@bp.post("/settings/return-addresses/<int:address_id>")
@merchant_required(owner_only=True)
def return_address_edit(address_id: int):
    return _address_write(lambda user, merchant_id: return_addresses.update(user, merchant_id, address_id,
                                                                            request.form),
                          _("退货地址已保存"), editing=address_id)


@bp.post("/settings/return-addresses/<int:address_id>/delete")
@merchant_required(owner_only=True)
def return_address_delete(address_id: int):
    return _address_write(lambda user, merchant_id: return_addresses.delete(user, merchant_id, address_id),
                          _("退货地址已删除"))


@bp.post("/settings/return-addresses/<int:address_id>/default")
@merchant_required(owner_only=True)
def return_address_default(address_id: int):
    return _address_write(lambda user, merchant_id: return_addresses.set_default(user, merchant_id, address_id),
                          _("已设为默认退货地址"))


@bp.post("/settings/aftersale-auto-refund")
@merchant_required(owner_only=True)
def settings_aftersale_auto_refund():
    """未发货仅退款自动同意 on or off (a checkbox: absent is off)."""
    enabled = request.form.get("aftersale_auto_refund") == "1"
    with transaction():
        merchant = shops.set_aftersale_auto_refund(current_user._get_current_object(), g.merchant.id, enabled)
    message = _("已开启：未发货的仅退款申请将自动同意") if enabled else _("已关闭：未发货的仅退款申请需要你审核")
    if is_htmx():
        return with_toast(render_template("merchant/settings/_aftersale.html", merchant=merchant), message)
    flash(message, "success")
    return redirect(url_for("merchant.settings", _anchor="aftersale-settings"))
