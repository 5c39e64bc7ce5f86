"""The merchant console's product form, as typed input: yuan strings become fen,
percent strings basis points, counts ints (`app.core.money` parses amounts; it is the
one place that converts them). What cannot be read is reported per field, with the
messages the form has always shown, and goes on as None so that `product_input.check`
still names every other problem in the same round.

A form mapping has the form's own names: `title`, `subtitle`, `category_id`,
`description`, `tags` (comma separated or a list), `specs`, `on_promotion`,
`promotion_starts_at`/`promotion_ends_at` (ISO text), `skus` (rows with
`spec_values`, `price`, `promotion_price`, `stock`, `low_stock_threshold`, `code`,
`expected_stock`), `distribution_enabled` and `commission_l{1,2,3}_percent`.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask_babel import gettext as _

from app.catalog.product_input import LEVELS, CommissionInput, ProductInput, SkuInput, check
from app.core.bounds import to_int
from app.core.money import InvalidAmount, yuan_to_fen

TRUE_WORDS = {"1", "true", "on", "yes"}


def _blank(raw) -> bool:
    return raw is None or str(raw).strip() == ""


def _fen(raw, key: str, errors: dict) -> int | None:
    if _blank(raw):
        return None
    text = str(raw).strip()
    if text.startswith("-"):
        errors[key] = _("价格必须大于 0")
        return None
    try:
        return yuan_to_fen(text)
    except InvalidAmount:
        errors[key] = _("请输入正确的金额（最多两位小数）")
        return None


def _int(raw, key: str, errors: dict) -> int | None:
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        errors[key] = _("请输入整数")
        return None


def _time(raw) -> datetime | None:
    if _blank(raw):
        return None
    if isinstance(raw, datetime):
        return raw
    try:
        return datetime.fromisoformat(str(raw))
    except ValueError:
        return None  # reported as an invalid promotion window by the check


def _sku(row: Mapping, key: str, errors: dict) -> SkuInput:
    threshold = row.get("low_stock_threshold")  # blank: the shop's default
    expected = row.get("expected_stock")
    if not _blank(expected):
        # An unreadable expectation cannot match any stock: refused as changed, never overwritten.
        expected = to_int(expected, 0) if to_int(expected, 0) is not None else -1
    return SkuInput(
        spec_values=dict(row.get("spec_values") or row.get("specs") or {}),
        price_fen=_fen(row.get("price"), f"sku.{key}.price", errors),
        promotion_price_fen=_fen(row.get("promotion_price"), f"sku.{key}.promotion_price", errors),
        stock=_int(row.get("stock", 0), f"sku.{key}.stock", errors),
        low_stock_threshold=None if _blank(threshold) else _int(threshold, f"sku.{key}.low_stock_threshold", errors),
        code=str(row.get("code") or ""), expected_stock=None if _blank(expected) else expected)


def _row_key(row: Mapping, specs: list[dict]) -> str:
    """The field names of a row's errors (`sku.颜色:红|尺码:M.price`), as the check names them."""
    values = row.get("spec_values") or row.get("specs") or {}
    names = [str(d.get("name") or "").strip() for d in specs or []]
    return "|".join(f"{n}:{values.get(n, '')}" for n in names if n)


def _commission(data: Mapping, errors: dict) -> CommissionInput | None:
    keys = ("distribution_enabled", *(f"commission_l{n}_percent" for n in LEVELS))
    if not any(k in data for k in keys):
        return None  # the form does not carry the override: it stays as it is
    raw = data.get("distribution_enabled")
    enabled = raw if isinstance(raw, bool) else str(raw or "").strip().lower() in TRUE_WORDS
    levels: dict[int, int | None] = {}
    for n in LEVELS:
        text = str(data.get(f"commission_l{n}_percent") or "").strip().rstrip("%").strip()
        levels[n] = None
        if text:
            try:
                levels[n] = yuan_to_fen(text)  # the same grammar: up to two decimals, not negative
            except InvalidAmount:
                errors[f"commission_l{n}"] = _("请输入 0 到 100 之间的百分比，最多两位小数")
    return CommissionInput(enabled=enabled, level_bp=levels)


def parse(data: Mapping) -> tuple[ProductInput, dict[str, str]]:
    """The typed input of a form, and the fields that could not be read (field -> message)."""
    errors: dict[str, str] = {}
    raw_tags = data.get("tags") or []
    if isinstance(raw_tags, str):
        raw_tags = raw_tags.replace("，", ",").split(",")
    specs = list(data.get("specs") or [])
    product = ProductInput(
        title=str(data.get("title") or ""), subtitle=str(data.get("subtitle") or ""),
        category_id=to_int(data.get("category_id") or 0, 0), description=str(data.get("description") or ""),
        tags=[str(t) for t in raw_tags], specs=specs, on_promotion=bool(data.get("on_promotion")),
        promotion_starts_at=_time(data.get("promotion_starts_at")),
        promotion_ends_at=_time(data.get("promotion_ends_at")),
        skus=[_sku(row, _row_key(row, specs), errors) for row in data.get("skus") or []],
        commission=_commission(data, errors))
    return product, errors


def read(data: Mapping) -> ProductInput:
    """The typed input of a whole form mapping (seed data, scripts, tests); ValidationError
    naming every unreadable field together with everything else wrong with it."""
    product, unreadable = parse(data)
    if unreadable:
        check(product, unreadable)  # raises, naming every field
    return product
