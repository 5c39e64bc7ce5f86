"""The settings store: platform settings that admins edit at run time.

Each setting is declared once in `DEFINITIONS` with its type, default and a
validator; reads fall back to the default, writes are validated and audited.
Later issues add their settings to `DEFINITIONS`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from app.core import audit
from app.core.db import forget_for_transaction, once_per_transaction
from app.core.errors import ValidationError
from app.core.models import PlatformSetting
from app.extensions import db


@dataclass(frozen=True)
class SettingDefinition:
    key: str
    label: Any
    kind: type
    default: Any
    help: Any = ""
    validate: Callable[[Any], None] | None = None
    # (value, label) pairs: the settings page shows a select; any other value is refused.
    choices: tuple[tuple[str, Any], ...] = ()


def _positive(value: int) -> None:
    if value <= 0:
        raise ValidationError(str(_l("必须大于 0")))


DEFINITIONS: dict[str, SettingDefinition] = {}


def define(definition: SettingDefinition) -> None:
    DEFINITIONS[definition.key] = definition


define(SettingDefinition(
    "require_phone_for_third_party", _l("第三方登录后要求绑定手机号"), bool, False,
    _l("开启后，微信或支付宝新用户需先绑定手机号才能下单"),
))
define(SettingDefinition(
    "product_review_required", _l("商品上架需平台审核"), bool, True,
    _l("关闭后，商家提交的商品直接上架销售"),
))
define(SettingDefinition(
    "sms_daily_limit_per_phone", _l("每个手机号每天最多发送验证码次数"), int, 10, validate=_positive,
))
define(SettingDefinition(
    "sms_hourly_limit_per_ip", _l("每个 IP 每小时最多发送验证码次数"), int, 30, validate=_positive,
))



def _one_of(*allowed: str) -> Callable[[str], None]:
    def check(value: str) -> None:
        if value not in allowed:
            raise ValidationError(str(_l("取值无效")))
    return check


def _between(low: int, high: int) -> Callable[[int], None]:
    def check(value: int) -> None:
        if not low <= value <= high:
            raise ValidationError(str(_l("请输入 %(low)d 到 %(high)d 之间的整数", low=low, high=high)))
    return check


# Orders
define(SettingDefinition(
    "stock_deduction", _l("库存扣减方式"), str, "on_order",
    _l("下单减库存：下单即锁定库存，取消或超时释放；付款减库存：付款成功时扣减，库存不足则自动取消并退款"),
    validate=_one_of("on_order", "on_payment"),
    choices=(("on_order", _l("下单减库存")), ("on_payment", _l("付款减库存"))),
))
define(SettingDefinition(
    "order_payment_timeout_minutes", _l("未付款订单自动取消（分钟）"), int, 30, validate=_between(5, 1440),
))
define(SettingDefinition(
    "auto_confirm_days", _l("发货后自动确认收货（天）"), int, 10, validate=_between(1, 60),
))
define(SettingDefinition(
    "aftersale_window_days", _l("确认收货后可申请售后（天）"), int, 7, validate=_between(0, 60),
))
define(SettingDefinition(
    "merchant_reply_days", _l("商家处理售后申请时限（天）"), int, 3,
    _l("商家逾期未处理的售后申请自动同意"), validate=_between(1, 15),
))

# Finance
define(SettingDefinition(
    "platform_fee_bp", _l("平台服务费率（万分比）"), int, 500,
    _l("类目和店铺未单独设置时，按商品实付金额收取的平台服务费；500 即 5%。下单时记入订单，之后修改不影响已下的订单"),
    validate=_between(0, 3000),
))
define(SettingDefinition(
    "merchant_withdrawal_min_fen", _l("商家单次最低提现（分）"), int, 10000,
    _l("店铺每次申请提现的最低金额，以分计；10000 即 ¥100"), validate=_between(100, 100_000_000),
))
define(SettingDefinition(
    "merchant_withdrawal_fee_bp", _l("商家提现手续费率（万分比）"), int, 0,
    _l("从店铺提现金额中扣除的手续费，四舍五入到分；0 即免费，10 即 0.1%"), validate=_between(0, 1000),
))

# Analytics
define(SettingDefinition(
    "analytics_retention_days", _l("行为数据保留天数"), int, 400,
    _l("超过天数的浏览、点击、曝光等行为事件每天自动删除"), validate=_between(30, 3650),
))
# 经常一起买 (association rules, app/analytics/rules.py). Ratios are whole numbers, as the
# store keeps int/bool/str: support and confidence in basis points (万分比, 100 = 1%), the
# lift in hundredths (100 = 1 倍, "as likely as without the first product").
define(SettingDefinition(
    "rules_lookback_days", _l("经常一起买：统计最近多少天的订单"), int, 180,
    _l("每晚按这段时间内已付款的订单重新计算"), validate=_between(7, 730),
))
define(SettingDefinition(
    "rules_min_baskets", _l("经常一起买：至少多少笔订单才计算"), int, 20,
    _l("已付款的购物篮少于此数时不给出推荐（太少的订单得出的只是巧合）。店铺按自己的订单计，平台按一次结算计（可含几家店铺的订单）"),
    validate=_between(5, 100000),
))
define(SettingDefinition(
    "rules_min_support_bp", _l("经常一起买：最小支持度（万分比）"), int, 100,
    _l("两件商品同时出现的订单占全部订单的比例至少是多少；100 即 1%"), validate=_between(1, 10000),
))
define(SettingDefinition(
    "rules_min_confidence_bp", _l("经常一起买：最小置信度（万分比）"), int, 2000,
    _l("买了前一件的订单里也买了后一件的比例至少是多少；2000 即 20%"), validate=_between(1, 10000),
))
define(SettingDefinition(
    "rules_min_lift_pct", _l("经常一起买：最小提升度（百分比）"), int, 120,
    _l("买了前一件后再买后一件的可能性是平常的多少倍；120 即 1.2 倍，不低于 100（1 倍）"),
    validate=_between(100, 100000),
))
define(SettingDefinition(
    "report_retention_days", _l("报表文件保留天数"), int, 7,
    _l("导出的报表文件超过天数后每天自动删除，需要时重新生成"), validate=_between(1, 90),
))
define(SettingDefinition(
    "segments_lookback_days", _l("客户分群统计近多少天"), int, 180,
    _l("客户分群按这段时间内的付款订单、浏览和加购计算，每晚重新计算"), validate=_between(30, 365),
))
define(SettingDefinition(
    "marketing_cap_count", _l("每位用户营销消息上限（条）"), int, 1,
    _l("平台和所有店铺发给同一用户的营销消息合计，在下面的天数内最多这么多条"), validate=_between(1, 10),
))
define(SettingDefinition(
    "marketing_cap_days", _l("营销消息频次控制周期（天）"), int, 7, validate=_between(1, 90),
))


STORED = "platform_settings"


def _stored() -> dict[str, Any]:
    """Every stored value, read in one SELECT once per database transaction: a checkout
    asks for three settings, most of which have no row, and the session's identity map
    cannot remember a missing row. `put` drops the copy."""
    return once_per_transaction(
        STORED, lambda: {row.key: row.value for row in db.session.scalars(db.select(PlatformSetting))})


def get(key: str) -> Any:
    definition = DEFINITIONS[key]
    return _stored().get(key, definition.default)


def all_values() -> dict[str, Any]:
    stored = _stored()
    return {key: stored.get(key, d.default) for key, d in DEFINITIONS.items()}


def coerce(definition: SettingDefinition, raw: Any) -> Any:
    if definition.kind is bool:
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in {"1", "true", "on", "yes", "y"}
    if definition.kind is int:
        try:
            return int(str(raw).strip())
        except ValueError:
            raise ValidationError(str(_l("请输入整数")), fields={definition.key: str(_l("请输入整数"))}) from None
    return definition.kind(raw)


def put(key: str, raw: Any, actor) -> Any:
    """Validate and store one setting; writes an audit row when the value changes."""
    if key not in DEFINITIONS:
        raise ValidationError(f"unknown setting {key}")
    definition = DEFINITIONS[key]
    value = coerce(definition, raw)
    if definition.choices and value not in {v for v, _label in definition.choices}:
        raise ValidationError(str(_l("取值无效")), fields={key: str(_l("请从列表中选择"))})
    if definition.validate:
        try:
            definition.validate(value)
        except ValidationError as exc:
            raise ValidationError(exc.message, fields={key: exc.message}) from None
    before = get(key)
    if before == value:
        return value
    row = db.session.get(PlatformSetting, key)
    if row is None:
        row = PlatformSetting(key=key)
        db.session.add(row)
    row.value = value
    row.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    forget_for_transaction(STORED)
    audit.record(actor, "settings.update", ("PlatformSetting", key), {key: [before, value]})
    return value
