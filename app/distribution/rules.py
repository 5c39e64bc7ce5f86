"""The platform's distribution rules, versioned.

Guarantees:
- `current()` always answers (the defaults, distribution off, before any save).
- `update()` validates everything before writing and adds a new version; old
  versions are never edited, so each order and commission keeps the rules (and
  rates) it was made under, and the versions are the change history.
- Rates are basis points 0..10000 each; their sum over the levels in use is
  capped by `DISTRIBUTION_MAX_TOTAL_BP`; the settlement delay is never shorter
  than the return window, so a commission cannot settle while a refund is possible.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from app.core import audit
from app.core import settings as platform_settings
from app.core.errors import ValidationError
from app.core.money import BP_PER_UNIT, InvalidAmount, fen_to_yuan, yuan_to_fen
from app.distribution.errors import DistributionError
from app.distribution.models import DistributionRules
from app.distribution.states import BindingMode, Qualification, WithdrawalMethod
from app.extensions import db

FIELDS = ("enabled", "levels", "level1_bp", "level2_bp", "level3_bp", "qualification", "spend_threshold_fen",
          "binding_mode", "binding_days", "bind_new_users_only", "self_purchase", "settlement_delay_days",
          "withdrawal_min_fen", "withdrawal_max_fen", "withdrawal_fee_bp", "withdrawal_methods")


def max_total_bp() -> int:
    return int(current_app.config.get("DISTRIBUTION_MAX_TOTAL_BP", 3000))


def defaults() -> DistributionRules:
    """The rules before an admin saves any: distribution off, two levels of 10% and 5%."""
    return DistributionRules(
        id=None, enabled=False, levels=2, level1_bp=1000, level2_bp=500, level3_bp=0,
        qualification=Qualification.EVERYONE, spend_threshold_fen=0, binding_mode=BindingMode.PERMANENT,
        binding_days=30, bind_new_users_only=False, self_purchase=False,
        settlement_delay_days=max(7, platform_settings.get("aftersale_window_days")), withdrawal_min_fen=1000,
        withdrawal_max_fen=2_000_000, withdrawal_fee_bp=0,
        withdrawal_methods=[WithdrawalMethod.WECHAT, WithdrawalMethod.ALIPAY, WithdrawalMethod.BANK])


def current() -> DistributionRules:
    rules = db.session.scalar(sa.select(DistributionRules).order_by(DistributionRules.id.desc()).limit(1))
    return rules or defaults()


def version(version_id: int | None) -> DistributionRules:
    """The rules an order was placed under (the current ones when it names none)."""
    rules = db.session.get(DistributionRules, version_id) if version_id else None
    return rules or current()


def history(limit: int = 50) -> list[DistributionRules]:
    return list(db.session.scalars(sa.select(DistributionRules).order_by(DistributionRules.id.desc()).limit(limit)))


def _percent_to_bp(raw: Any, field: str, errors: dict) -> int:
    """"12.5" (percent, up to two decimals) -> 1250 bp."""
    try:
        bp = yuan_to_fen(raw if raw not in (None, "") else "0")  # same grammar: two decimals, not negative
    except InvalidAmount:
        errors[field] = _("请输入 0 到 100 之间的百分比，最多两位小数")
        return 0
    if bp > BP_PER_UNIT:
        errors[field] = _("请输入 0 到 100 之间的百分比，最多两位小数")
    return bp


def _int(raw: Any, field: str, errors: dict, low: int, high: int) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        errors[field] = _("请输入整数")
        return low
    if not low <= value <= high:
        errors[field] = _("请输入 %(low)d 到 %(high)d 之间的整数", low=low, high=high)
    return value


def _yuan(raw: Any, field: str, errors: dict) -> int:
    try:
        return yuan_to_fen(raw if raw not in (None, "") else "0")
    except InvalidAmount:
        errors[field] = _("请输入正确的金额")
        return 0


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    return str(raw).strip().lower() in {"1", "true", "on", "yes", "y"}


def clean(data: dict) -> dict:
    """Form or API input (percent and yuan strings) -> validated column values; ValidationError
    with a message per field otherwise."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "enabled": _bool(data.get("enabled")),
        "levels": _int(data.get("levels", 1), "levels", errors, 1, 3),
        "bind_new_users_only": _bool(data.get("bind_new_users_only")),
        "self_purchase": _bool(data.get("self_purchase")),
    }
    for level in (1, 2, 3):
        values[f"level{level}_bp"] = _percent_to_bp(data.get(f"level{level}_percent"), f"level{level}_percent", errors)
    for level in range(values["levels"] + 1, 4):
        values[f"level{level}_bp"] = 0  # levels not in use pay nothing
    in_use = range(1, min(values["levels"], 3) + 1)  # "9" levels is an error below, not a KeyError
    total = sum(values[f"level{level}_bp"] for level in in_use)
    rate_errors = any(f"level{n}_percent" in errors for n in (1, 2, 3))  # a bad rate is named, not summed
    if total > max_total_bp() and "levels" not in errors and not rate_errors:
        errors["level1_percent"] = _("各级佣金比例合计不能超过 %(cap)s%%", cap=f"{max_total_bp() / 100:g}")
    values["qualification"] = str(data.get("qualification") or "")
    if values["qualification"] not in {q.value for q in Qualification}:
        errors["qualification"] = _("请选择分销商资格方式")
    values["spend_threshold_fen"] = _yuan(data.get("spend_threshold"), "spend_threshold", errors)
    if values["qualification"] == Qualification.SPEND_THRESHOLD and values["spend_threshold_fen"] <= 0:
        errors["spend_threshold"] = _("请填写消费门槛金额")
    values["binding_mode"] = str(data.get("binding_mode") or "")
    if values["binding_mode"] not in {m.value for m in BindingMode}:
        errors["binding_mode"] = _("请选择绑定方式")
    values["binding_days"] = _int(data.get("binding_days", 30), "binding_days", errors, 1, 3650)
    window = platform_settings.get("aftersale_window_days")
    values["settlement_delay_days"] = _int(data.get("settlement_delay_days", window), "settlement_delay_days",
                                           errors, 0, 365)
    if "settlement_delay_days" not in errors and values["settlement_delay_days"] < window:
        errors["settlement_delay_days"] = _("结算周期不能短于售后期（%(n)d 天）", n=window)
    values["withdrawal_min_fen"] = _yuan(data.get("withdrawal_min"), "withdrawal_min", errors)
    values["withdrawal_max_fen"] = _yuan(data.get("withdrawal_max"), "withdrawal_max", errors)
    if values["withdrawal_min_fen"] <= 0 and "withdrawal_min" not in errors:
        errors["withdrawal_min"] = _("最低提现金额必须大于 0")
    if values["withdrawal_max_fen"] < values["withdrawal_min_fen"] and "withdrawal_max" not in errors:
        errors["withdrawal_max"] = _("最高提现金额不能低于最低提现金额")
    values["withdrawal_fee_bp"] = _percent_to_bp(data.get("withdrawal_fee_percent"), "withdrawal_fee_percent", errors)
    methods = data.get("withdrawal_methods") or []
    methods = [methods] if isinstance(methods, str) else list(methods)
    values["withdrawal_methods"] = [m for m in (w.value for w in WithdrawalMethod) if m in methods]
    if not values["withdrawal_methods"]:
        errors["withdrawal_methods"] = _("至少选择一种提现方式")
    if errors:
        raise ValidationError(_("请检查标红的项目"), code=DistributionError.INVALID_RULES, fields=errors)
    return values


def update(actor, data: dict, note: str | None = None) -> DistributionRules:
    """Save a new version of the rules (audited); nothing is written when nothing changed."""
    values = clean(data)
    before = current()
    if before.id is not None and all(getattr(before, f) == values[f] for f in FIELDS):
        return before
    rules = DistributionRules(**values, changed_by_id=getattr(actor, "id", None), note=(note or "").strip()[:200] or None)
    db.session.add(rules)
    db.session.flush()
    audit.record(actor, "distribution.rules", ("DistributionRules", rules.id),
                 {f: [getattr(before, f), values[f]] for f in FIELDS if getattr(before, f) != values[f]})
    return rules


def as_form(rules: DistributionRules) -> dict:
    """The rules as the settings form shows them (percent and yuan strings)."""
    return {
        "enabled": rules.enabled, "levels": rules.levels,
        **{f"level{n}_percent": f"{getattr(rules, f'level{n}_bp') / 100:g}" for n in (1, 2, 3)},
        "qualification": rules.qualification, "spend_threshold": fen_to_yuan(rules.spend_threshold_fen),
        "binding_mode": rules.binding_mode, "binding_days": rules.binding_days,
        "bind_new_users_only": rules.bind_new_users_only, "self_purchase": rules.self_purchase,
        "settlement_delay_days": rules.settlement_delay_days,
        "withdrawal_min": fen_to_yuan(rules.withdrawal_min_fen), "withdrawal_max": fen_to_yuan(rules.withdrawal_max_fen),
        "withdrawal_fee_percent": f"{rules.withdrawal_fee_bp / 100:g}", "withdrawal_methods": rules.withdrawal_methods,
    }
