"""The range every whole-number input is held to, and the one parser that keeps it.

Every id, amount in fen, stock and count is a PostgreSQL `integer` column. A number
from outside (a URL, a query string, a form, JSON) is checked against that range where
it comes in, so it is refused as bad input and never reaches the database as an
out-of-range error.
"""
from __future__ import annotations

import re

# ASCII digits only: int() also reads other scripts' digits ("٥", "１０") and underscores
# ("1_0"), which no form field of ours means.
WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
MAX_INT = 2**31 - 1


def to_int(raw, minimum: int = -MAX_INT, maximum: int = MAX_INT) -> int | None:
    """`raw` as an int within minimum..maximum, or None when it is not a whole number
    in that range (text such as "12" and " 12 " counts; "1e3", "1.0", True do not).
    Never raises."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw if raw is not None else "").strip()
        if len(text) > len(str(MAX_INT)) + 1 or not WHOLE_NUMBER.fullmatch(text):
            return None
        value = int(text)
    return value if minimum <= value <= maximum else None


def bounded_int(raw, minimum: int = -MAX_INT, maximum: int = MAX_INT) -> int:
    """`int(raw)` for input: the same ValueError, also for a number outside minimum..maximum."""
    value = to_int(raw, minimum, maximum)
    if value is None:
        raise ValueError(f"not a whole number in {minimum}..{maximum}: {raw!r}"[:120])
    return value
