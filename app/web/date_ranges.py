"""The range picker both sales dashboards share (merchant 数据, admin 销售数据): a preset
(`?range=today|yesterday|7d|30d`) or a custom range (`?from=YYYY-MM-DD&to=YYYY-MM-DD`),
in Asia/Shanghai days, both ends included.

Nothing typed into the address bar is an error page: a malformed, reversed, future or
too long custom range (more than `figures.MAX_DAYS` days), or an unknown preset, falls
back to the default (近 7 天) with a notice the page shows above the figures.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.analytics.figures import MAX_DAYS
from app.core.clock import SHANGHAI, utcnow

DEFAULT = "7d"
CUSTOM = "custom"
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# preset -> (days back from today to the first day, days back to the last day)
PRESETS: dict[str, tuple[int, int]] = {"today": (0, 0), "yesterday": (1, 1), "7d": (6, 0), "30d": (29, 0)}
PRESET_LABELS = {"today": _l("今天"), "yesterday": _l("昨天"), "7d": _l("近 7 天"), "30d": _l("近 30 天")}


def today() -> date:
    """Today's date in Shanghai (the app's clock, which tests can move)."""
    return utcnow().astimezone(SHANGHAI).date()


@dataclass(frozen=True)
class DateRange:
    key: str  # one of PRESETS, or CUSTOM
    first: date
    last: date
    notice: str | None = None  # why what was asked for was not used

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def previous(self) -> tuple[date, date]:
        """The period just before, as long (what the tiles' changes compare with)."""
        return self.first - timedelta(days=self.days), self.first - timedelta(days=1)

    @property
    def args(self) -> dict[str, str]:
        """The query string that asks for this range again."""
        if self.key == CUSTOM:
            return {"from": self.first.isoformat(), "to": self.last.isoformat()}
        return {"range": self.key}


def preset(key: str, on: date | None = None, notice: str | None = None) -> DateRange:
    back_first, back_last = PRESETS[key]
    day = on or today()
    return DateRange(key, day - timedelta(days=back_first), day - timedelta(days=back_last), notice)


def _day(raw: str) -> date | None:
    """YYYY-MM-DD exactly (not the other ISO forms `fromisoformat` takes), else None."""
    if not ISO_DAY.fullmatch(raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


class Problem(StrEnum):
    """Why a range asked for cannot be used (each page words it its own way)."""

    MALFORMED = "malformed"
    REVERSED = "reversed"
    FUTURE = "future"
    TOO_LONG = "too_long"
    UNKNOWN_PRESET = "unknown_preset"


def read(args, on: date | None = None) -> DateRange | Problem:
    """The range asked for by `args` (a preset, or from/to; no range at all is the default),
    or the problem with it. The dashboards fall back on a problem (`parse`); a form that
    starts something (a report) refuses it instead."""
    day = on or today()
    raw_from, raw_to = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    if raw_from or raw_to:
        first, last = _day(raw_from), _day(raw_to)
        if first is None or last is None:
            return Problem.MALFORMED
        if first > last:
            return Problem.REVERSED
        if last > day:
            return Problem.FUTURE
        if (last - first).days + 1 > MAX_DAYS:
            return Problem.TOO_LONG
        return DateRange(CUSTOM, first, last)
    key = args.get("range") or DEFAULT
    if key not in PRESETS:
        return Problem.UNKNOWN_PRESET
    return preset(key, day)


def parse(args, on: date | None = None) -> DateRange:
    """The range asked for by the query string `args` (a preset, or from/to), else the default
    with a notice saying why."""
    day = on or today()
    found = read(args, day)
    if isinstance(found, DateRange):
        return found
    notices = {
        Problem.MALFORMED: _("日期格式应为 年-月-日，已显示近 7 天的数据"),
        Problem.REVERSED: _("结束日期不能早于开始日期，已显示近 7 天的数据"),
        Problem.FUTURE: _("不能选择今天以后的日期，已显示近 7 天的数据"),
        Problem.TOO_LONG: _("最多可查询 %(n)d 天，已显示近 7 天的数据", n=MAX_DAYS),
        Problem.UNKNOWN_PRESET: _("没有这个时间范围，已显示近 7 天的数据"),
    }
    return preset(DEFAULT, day, notices[found])
