"""Shop settings (owner only): name, logo, description, contact, return address,
shipping rule and stock alert channels. A rejected form keeps what was typed."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.db import transaction
from app.core.errors import DomainError
from app.core.money import InvalidAmount, fen_to_yuan, format_yuan, yuan_to_fen
from app.merchants import shops
from app.merchants.states import AlertChannel
from app.web.merchant.blueprint import bp
from app.web.merchant.context import merchant_required

TEXT_FIELDS = ("name", "description", "contact_name", "contact_phone", "return_recipient", "return_phone",
               "return_address", "shipping_flat_yuan", "free_shipping_threshold_yuan")


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


def _page(values: dict, errors: dict | None = None, status: int = 200):
    merchant = g.merchant
    rule = _rule_from_text(values.get("shipping_flat_yuan", ""), values.get("free_shipping_threshold_yuan", ""))
    return render_template(
        "merchant/settings/index.html", merchant=merchant, values=values, errors=errors or {},
        rule=rule, channels=[(AlertChannel.INSITE, _("站内信")), (AlertChannel.SMS, _("短信")), (AlertChannel.EMAIL, _("邮件"))],
    ), status


@bp.get("/settings")
@merchant_required(owner_only=True)
def settings():
    return _page(form_values(g.merchant))


@bp.post("/settings")
@merchant_required(owner_only=True)
def settings_save():
    values = {name: request.form.get(name, "") for name in TEXT_FIELDS}
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
