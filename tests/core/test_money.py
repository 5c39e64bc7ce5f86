from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core import money


@pytest.mark.parametrize("text,fen", [("0", 0), ("12", 1200), ("12.5", 1250), ("12.50", 1250), (" 0.01 ", 1), (Decimal("3.2"), 320)])
def test_yuan_to_fen(text, fen):
    assert money.yuan_to_fen(text) == fen
    assert money.yuan_to_fen("21474836.47") == money.MAX_FEN


# Past MAX_FEN (an `integer` column) is refused here, at the edge, not by the database.
@pytest.mark.parametrize("text", ["", "abc", "-1", "1.001", "NaN", "Infinity", "1e999", "21474836.48",
                                  "10000000000000000000"])
def test_yuan_to_fen_rejects(text):
    with pytest.raises(money.InvalidAmount):
        money.yuan_to_fen(text)


@given(st.integers(min_value=0, max_value=money.MAX_FEN))
def test_round_trip(fen):
    assert money.yuan_to_fen(money.fen_to_yuan(fen)) == fen


@pytest.mark.parametrize("amount,rate,expected", [(1000, 1000, 100), (999, 1000, 100), (994, 1000, 99), (995, 1000, 100), (1, 5000, 1), (0, 3000, 0)])
def test_apply_rate_rounds_half_up(amount, rate, expected):
    assert money.apply_rate(amount, rate) == expected


def test_display_helpers():
    assert money.format_yuan(12345) == "¥123.45"
    assert money.format_yuan(5) == "¥0.05"
    assert money.split_yuan(12345) == ("123", ".45")
    assert money.compact_count(12000) == "1.2万"
    assert money.compact_count(9999) == "9999"
    assert money.compact_count(150_000_000) == "1.5亿"
