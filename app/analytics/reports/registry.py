"""The report types (数据报表) and what each one is: its name, its columns, who may have
it (the platform, a shop, or both), and how its rows are read.

A type reads its rows for a `Window` (Shanghai days, both ends included, and the shop it
is for, None for the platform) in chunks: `count(window)` first, for the progress bar,
then `chunks(window, size)` yields lists of rows, each a tuple of plain values in the
order of `columns` (text, int, money in fen, a fraction for a percentage, a Shanghai
wall-clock datetime, a date). The shop filter is part of each type's query, and the
shop always comes from the job row, never from what the person typed.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from app.core.clock import SHANGHAI, to_local
from app.extensions import db


class Scope(StrEnum):
    PLATFORM = "platform"
    SHOP = "shop"


class Kind(StrEnum):
    """What a column holds, which decides how each format writes it."""

    TEXT = "text"
    INT = "int"
    MONEY = "money"  # integer fen; written in yuan
    PERCENT = "percent"  # a fraction: 0.2663 is 26.63%
    DATETIME = "datetime"  # naive Shanghai wall-clock time
    DATE = "date"


@dataclass(frozen=True)
class Column:
    header: Any  # a lazy string (_l): the header is worded when the file is written
    kind: Kind = Kind.TEXT
    width: int = 12  # in characters, for the XLSX sheet


@dataclass(frozen=True)
class Window:
    first: date
    last: date
    merchant_id: int | None  # the shop the report is for; None: the platform

    @property
    def start(self) -> datetime:
        """Midnight in Shanghai that opens the first day."""
        return datetime.combine(self.first, time(), SHANGHAI)

    @property
    def end(self) -> datetime:
        """Midnight in Shanghai after the last day (excluded)."""
        return datetime.combine(self.last + timedelta(days=1), time(), SHANGHAI)

    def shop(self, column) -> sa.ColumnElement[bool]:
        """The scope as a condition on `column` (the table's shop id)."""
        return column == self.merchant_id if self.merchant_id is not None else sa.true()


Rows = Iterator[list[tuple]]


@dataclass(frozen=True)
class ReportType:
    key: str
    label: Any  # lazy string
    description: Any  # lazy string: one line under the form's choice
    columns: tuple[Column, ...]
    scopes: frozenset[Scope]
    count: Callable[[Window], int]
    chunks: Callable[[Window, int], Rows]


REPORTS: dict[str, ReportType] = {}
# The order of the form's choices: the shop's everyday ones first.
SHOWN_IN = ("orders", "products", "daily", "aftersales", "shops", "commissions")


def register(report: ReportType) -> ReportType:
    REPORTS[report.key] = report
    return report


def scope_of(merchant_id: int | None) -> Scope:
    return Scope.PLATFORM if merchant_id is None else Scope.SHOP


def allowed(merchant_id: int | None) -> list[ReportType]:
    """The types the platform (None) or a shop may have, in the form's order."""
    scope = scope_of(merchant_id)
    found = [report for report in REPORTS.values() if scope in report.scopes]
    return sorted(found, key=lambda r: SHOWN_IN.index(r.key) if r.key in SHOWN_IN else len(SHOWN_IN))


def find(key: str | None, merchant_id: int | None) -> ReportType | None:
    """The type `key` if this scope may have it, else None."""
    report = REPORTS.get(str(key or ""))
    return report if report is not None and scope_of(merchant_id) in report.scopes else None


def by_key(stmt: sa.Select, key_column, key_of: Callable[[Any], Any], size: int) -> Iterator[list]:
    """Keyset pages of `stmt` ordered by `key_column` ascending, `size` rows each: every page
    is a fresh query starting after the last key seen, so nothing is held open between pages
    (the progress commits in between) and a page costs the same wherever it starts."""
    last = None
    while True:
        page = stmt if last is None else stmt.where(key_column > last)
        rows = db.session.execute(page.order_by(key_column).limit(size)).all()
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        last = key_of(rows[-1])


def count_of(stmt: sa.Select) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0)


def wall_clock(moment: datetime | None) -> datetime | None:
    """A stored (UTC) time as the Shanghai wall-clock time a file shows, to the second."""
    return None if moment is None else to_local(moment).replace(tzinfo=None, microsecond=0)
