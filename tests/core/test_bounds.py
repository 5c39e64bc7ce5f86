"""The one parser every whole number from outside goes through (app.core.bounds)."""
from __future__ import annotations

import pytest

from app.core.bounds import MAX_INT, bounded_int, to_int


@pytest.mark.parametrize("raw, expected", [
    ("12", 12), (" 12 ", 12), ("-3", -3), ("+7", 7), (0, 0), (str(MAX_INT), MAX_INT),
])
def test_whole_numbers_in_range_are_read(raw, expected):
    assert to_int(raw) == expected


@pytest.mark.parametrize("raw", [
    "", None, "1e3", "1.0", "abc", True, str(MAX_INT + 1), "99999999999999999999",
    "1_0", "١٢", "１０", "٥", "1 2", "0x10", "--1",
])
def test_anything_else_is_none(raw):
    assert to_int(raw) is None


def test_bounds_apply_and_bounded_int_raises_value_error():
    assert to_int("5", 1, 10) == 5 and to_int("0", 1, 10) is None and to_int("11", 1, 10) is None
    assert bounded_int("7", 1, 9) == 7
    with pytest.raises(ValueError):
        bounded_int("１０", 1, 99)
