"""Query-string parsing the consoles' list pages share: a tab out of a fixed set,
a date typed into a filter box."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _


def pick_tab(args, name: str, tabs, default: str) -> str:
    """`args[name]` when it names one of `tabs`, else `default` (missing, empty or unknown)."""
    tab = args.get(name) or default
    return tab if tab in tabs else default


def parse_date(raw: str | None) -> tuple[date | None, str | None]:
    """(the date, None), (None, None) when blank, or (None, the message) when it is not 年-月-日."""
    raw = (raw or "").strip()
    if not raw:
        return None, None
    try:
        return date.fromisoformat(raw), None
    except ValueError:
        return None, _("日期格式应为 年-月-日，例如 2026-01-31")
