"""Error codes are one StrEnum per domain (`app/<domain>/errors.py`). A raise site that
names a member the enum lacks is an AttributeError — a 500 on a path that may be
rare (an unban of an account that is not banned). This reads every module of the app
and checks each `SomethingError.NAME` it writes against the enums."""
from __future__ import annotations

import importlib
import re
from enum import StrEnum
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
MEMBER = re.compile(r"\b([A-Z][A-Za-z]*Error)\.([A-Z][A-Z0-9_]*)\b")


def _error_enums() -> dict[str, type[StrEnum]]:
    enums = {}
    for path in APP.rglob("errors.py"):
        module = importlib.import_module(".".join(path.relative_to(APP.parent).with_suffix("").parts))
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, StrEnum) and value.__module__ == module.__name__:
                enums[name] = value
    return enums


def test_every_error_code_named_in_the_app_exists():
    enums = _error_enums()
    assert {"OrderError", "PaymentError", "CatalogError", "MerchantError", "DistributionError",
            "AccountError"} <= set(enums)
    missing = [f"{path.relative_to(APP.parent)}: {enum}.{member}"
               for path in APP.rglob("*.py")
               for enum, member in MEMBER.findall(path.read_text(encoding="utf-8"))
               if enum in enums and member not in enums[enum].__members__]
    assert missing == []


def test_codes_are_unique_within_a_domain():
    for name, enum in _error_enums().items():
        values = [member.value for member in enum]
        assert len(values) == len(set(values)), name
