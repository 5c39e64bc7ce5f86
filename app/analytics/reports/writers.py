"""Writing a report's rows to a file, a chunk at a time, never holding the whole report.

CSV: UTF-8 with a byte-order mark (Excel on Windows reads Chinese correctly only then),
money as plain yuan with two decimals (`206.00`, no ¥, no thousands separator, so any
program reads it as a number), percentages as `26.63%`, times as `2026-12-05 23:30:00`
(Shanghai). A text cell starting with = + - @ (or a tab or carriage return), which a
spreadsheet would run as a formula, gets a leading apostrophe, as OWASP advises.

XLSX (openpyxl's write-only mode, rows streamed to disk): a bold, frozen header row with
set column widths and a filter; money as numeric cells in yuan formatted `¥#,##0.00`,
percentages as fractions formatted `0.00%`, times and dates as real date cells. Text is
always a string cell, never a formula; one that looks like a formula is also marked
"quote prefix" (Excel's own "this is text"), so editing the cell does not turn it into one.
"""
from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from app.analytics.reports.registry import Column, Kind
from app.core.money import fen_to_yuan

CSV, XLSX = "csv", "xlsx"
FORMATS = (CSV, XLSX)
CONTENT_TYPES = {CSV: "text/csv; charset=utf-8",
                 XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = '"¥"#,##0.00'
PERCENT_FORMAT = "0.00%"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"
SHEET_TITLE_MAX = 31


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_START)


def csv_text(text: str) -> str:
    return "'" + text if looks_like_formula(text) else text


def csv_cell(value, kind: Kind) -> str:
    if value is None:
        return ""
    if kind == Kind.MONEY:
        return fen_to_yuan(value)
    if kind == Kind.PERCENT:
        return f"{value * 100:.2f}%"
    if kind == Kind.DATETIME:
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if kind == Kind.DATE:
        return value.isoformat()
    if kind == Kind.INT:
        return str(int(value))
    return csv_text(str(value))


class CsvSheet:
    def __init__(self, path, columns: tuple[Column, ...], title: str) -> None:
        self.columns = columns
        self._file = open(path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115  (closed by close())
        self._writer = csv.writer(self._file)
        self._writer.writerow([csv_text(str(c.header)) for c in columns])

    def write(self, rows: Iterable[tuple]) -> None:
        kinds = [c.kind for c in self.columns]
        self._writer.writerows([csv_cell(value, kind) for value, kind in zip(row, kinds, strict=True)] for row in rows)

    def close(self) -> None:
        self._file.close()

    def abandon(self) -> None:
        self._file.close()


class XlsxSheet:
    def __init__(self, path, columns: tuple[Column, ...], title: str) -> None:
        self.path, self.columns, self.rows = path, columns, 0
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(_sheet_title(title))
        # Write-only sheets take their layout before the first row.
        self._sheet.freeze_panes = "A2"
        for n, column in enumerate(columns, start=1):
            self._sheet.column_dimensions[get_column_letter(n)].width = column.width
        bold, fill = Font(bold=True), PatternFill("solid", fgColor="F5F6F7")
        header = []
        for column in columns:
            cell = WriteOnlyCell(self._sheet, value=_clean(str(column.header)))
            cell.data_type = "s"
            cell.font, cell.fill, cell.alignment = bold, fill, Alignment(vertical="center")
            header.append(cell)
        self._sheet.append(header)

    def write(self, rows: Iterable[tuple]) -> None:
        kinds = [c.kind for c in self.columns]
        for row in rows:
            self._sheet.append([self._cell(value, kind) for value, kind in zip(row, kinds, strict=True)])
            self.rows += 1

    def _cell(self, value, kind: Kind):
        if value is None:
            return None
        if kind == Kind.MONEY:
            cell = WriteOnlyCell(self._sheet)
            # openpyxl writes numbers with 16 significant digits (99.99 becomes 99.98999999999999);
            # the yuan text from fen is the exact decimal, and the XML number may be written as is.
            cell._value, cell.data_type = fen_to_yuan(value), "n"
            cell.number_format = MONEY_FORMAT
            return cell
        if kind == Kind.PERCENT:
            cell = WriteOnlyCell(self._sheet, value=round(float(value), 6))
            cell.number_format = PERCENT_FORMAT
            return cell
        if kind in (Kind.DATETIME, Kind.DATE):
            cell = WriteOnlyCell(self._sheet, value=value)
            cell.number_format = DATETIME_FORMAT if isinstance(value, datetime) else DATE_FORMAT
            return cell
        if kind == Kind.INT:
            return int(value)
        text = _clean(str(value))
        if not looks_like_formula(text):
            return text  # plain text: openpyxl makes it a string cell
        cell = WriteOnlyCell(self._sheet, value=text)
        cell.data_type = "s"  # never a formula, whatever it starts with
        cell.quotePrefix = True
        return cell

    def close(self) -> None:
        if self.rows:
            last = get_column_letter(len(self.columns))
            self._sheet.auto_filter.ref = f"A1:{last}{self.rows + 1}"
        self._book.save(self.path)

    def abandon(self) -> None:
        """Give up half way: saving is the only public way to let openpyxl remove its
        temporary file; the caller deletes what was saved."""
        try:
            self._book.save(self.path)
        except Exception:  # already failing: the first error is the one that counts
            pass


def _clean(text: str) -> str:
    """XML cannot carry control characters other than tab and newlines: drop them."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _sheet_title(title: str) -> str:
    cleaned = "".join(" " if ch in '[]:*?/\\' else ch for ch in title).strip()
    return cleaned[:SHEET_TITLE_MAX] or "Sheet1"


def open_sheet(fmt: str, path, columns: tuple[Column, ...], title: str):
    return (CsvSheet if fmt == CSV else XlsxSheet)(path, columns, title)

