"""Money is integer fen everywhere. This module is the only place that converts
between fen and yuan strings, and the only place that rounds.

Rounding rule (written once): amounts derived from a rate are rounded half up
to the fen (`ROUND_HALF_UP`), the convention of Chinese retail receipts.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from app.core.bounds import MAX_INT

BP_PER_UNIT = 10_000  # 10000 basis points = 100%
MAX_FEN = MAX_INT  # amounts are `integer` columns: at most ¥21,474,836.47


class InvalidAmount(ValueError):
    pass


def yuan_to_fen(text: str | int | float | Decimal) -> int:
    """Parse a yuan amount ("12.5", "12.50", 12) into fen. More than two
    decimals, negative, non-numeric input or more than MAX_FEN is rejected."""
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError) as exc:
        raise InvalidAmount(str(text)) from exc
    if not value.is_finite() or value < 0 or value * 100 > MAX_FEN:
        raise InvalidAmount(str(text))
    fen = value * 100
    if fen != fen.to_integral_value():
        raise InvalidAmount(str(text))
    return int(fen)


def fen_to_yuan(fen: int) -> str:
    """12345 -> "123.45" (the format Alipay and forms use)."""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def apply_rate(amount_fen: int, rate_bp: int) -> int:
    """amount x rate, rounded half up to the fen."""
    exact = Decimal(int(amount_fen)) * Decimal(int(rate_bp)) / Decimal(BP_PER_UNIT)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def prorate(amount_fen: int, part: int, whole: int) -> int:
    """amount x part / whole (a partial refund's share), rounded half up to the fen."""
    if whole <= 0:
        raise ValueError("whole must be positive")
    exact = Decimal(int(amount_fen)) * Decimal(int(part)) / Decimal(int(whole))
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_yuan(fen: int | None) -> str:
    """The `|yuan` Jinja filter: "¥123.45"."""
    if fen is None:
        return ""
    return f"¥{fen_to_yuan(fen)}"


def split_yuan(fen: int) -> tuple[str, str]:
    """For the price display: (yuan part, fen part) -> ("123", ".45")."""
    text = fen_to_yuan(fen)
    whole, _, cents = text.partition(".")
    return whole, "." + cents


def compact_count(n: int) -> str:
    """Big numbers as the shop shows them: 12000 -> "1.2万"."""
    if n >= 100_000_000:
        return f"{n / 100_000_000:.1f}".rstrip("0").rstrip(".") + "亿"
    if n >= 10_000:
        return f"{n / 10_000:.1f}".rstrip("0").rstrip(".") + "万"
    return str(n)
