"""The merchant's bulk-ship spreadsheet: one order per row with its carrier and
tracking number, uploaded as CSV.

This module only reads the sheet. Whether each order exists, belongs to the
merchant and may ship is the service's question; it gets rows that are
well-formed and a list of the rows that are not, each with its line number as
the merchant sees it in Excel (the header is line 1).

Problems with the whole file (unreadable encoding, no recognisable header,
more than `MAX_ROWS` rows) raise `ValidationError` with `fields={"file": ...}`,
so nothing is half-applied; problems with single rows are `RowError`s.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _

from app.core.errors import ValidationError
from app.core.text import decode_upload
from app.orders import carriers
from app.orders.errors import OrderError

MAX_ROWS = 500
ORDER_NO = re.compile(r"^[0-9A-Za-z_-]{1,32}$")
# What Excel shows a long number as when the column is not text: 2.02611E+17.
SCIENTIFIC = re.compile(r"^\d+(\.\d+)?E\+\d+$", re.IGNORECASE)

COLUMNS = ("order_no", "carrier", "tracking_no")
HEADER_NAMES = {
    "order_no": {"订单号", "订单编号", "order_no", "order no", "orderno", "order"},
    "carrier": {"快递公司", "物流公司", "快递", "carrier", "carrier_code", "carrier code", "courier"},
    "tracking_no": {"运单号", "快递单号", "物流单号", "tracking_no", "tracking no", "tracking number", "trackingno"},
}
TEMPLATE_HEADER = ("订单号", "快递公司", "运单号")
TEMPLATE_EXAMPLE = ("202611301000001", "顺丰速运", "SF1234567890123")


@dataclass(frozen=True)
class ShipRow:
    line: int
    order_no: str
    carrier_code: str
    tracking_no: str


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass
class ParsedSheet:
    rows: list[ShipRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def parse(data: bytes) -> ParsedSheet:
    """Read an uploaded sheet (UTF-8 with or without BOM, or GBK as saved by
    Excel in China). Blank lines are skipped; a repeated order number is an
    error on the later line and the first one stands."""
    reader = csv.reader(io.StringIO(decode(data), newline=""))
    columns = read_header(reader)
    sheet = ParsedSheet()
    first_line: dict[str, int] = {}
    count = 0
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        count += 1
        if count > MAX_ROWS:
            raise too_many_rows()
        row, problems = read_row(reader.line_num, cells, columns)
        if row.order_no in first_line:
            problems.append(_("订单号 %(order_no)s 与第 %(line)s 行重复",
                              order_no=row.order_no, line=first_line[row.order_no]))
        elif row.order_no:
            first_line[row.order_no] = row.line
        if problems:
            sheet.errors.extend(RowError(row.line, message) for message in problems)
        else:
            sheet.rows.append(row)
    return sheet


def template_csv() -> bytes:
    """An example sheet to download: the Chinese header and one example row,
    UTF-8 with a BOM because Excel takes a BOM-less file for GBK."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TEMPLATE_HEADER)
    writer.writerow(TEMPLATE_EXAMPLE)
    return out.getvalue().encode("utf-8-sig")


def decode(data: bytes) -> str:
    """The sheet's text (UTF-8 or GBK, `app.core.text.decode_upload`)."""
    text = decode_upload(data)
    if text is None:
        raise file_error(_("无法识别文件编码，请另存为 CSV（UTF-8 或 GBK）后重新上传"))
    return text


def read_header(reader) -> dict[str, int]:
    """Column positions by name, from the first non-blank line."""
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        columns = {}
        for position, cell in enumerate(cells):
            name = header_name(cell)
            if name and name not in columns:
                columns[name] = position
        missing = [name for name in COLUMNS if name not in columns]
        if missing:
            raise file_error(_("表头应包含：订单号、快递公司、运单号"))
        return columns
    raise file_error(_("文件是空的，请按模板填写后上传"))


def header_name(cell: str) -> str | None:
    text = cell.strip().strip("*").strip().lower()
    return next((name for name, labels in HEADER_NAMES.items() if text in labels), None)


def read_row(line: int, cells: list[str], columns: dict[str, int]) -> tuple[ShipRow, list[str]]:
    """The row as read, and every problem found in it (the row is only usable
    when there are none)."""
    def cell(name: str) -> str:
        position = columns[name]
        return cells[position].strip() if position < len(cells) else ""

    problems: list[str] = []
    order_no = read_order_no(cell("order_no"), problems)
    carrier_code = read_carrier(cell("carrier"), problems)
    tracking_no = read_tracking_no(cell("tracking_no"), problems)
    return ShipRow(line, order_no, carrier_code, tracking_no), problems


def read_order_no(text: str, problems: list[str]) -> str:
    if not text:
        problems.append(_("订单号不能为空"))
    elif SCIENTIFIC.match(text):
        problems.append(_("订单号被 Excel 显示成了科学计数法，请把该列设为文本后重新导出"))
    elif not ORDER_NO.match(text):
        problems.append(_("订单号格式不正确：%(value)s", value=text))
    return text


def read_carrier(text: str, problems: list[str]) -> str:
    if not text:
        problems.append(_("快递公司不能为空"))
        return ""
    carrier = carriers.find(text)
    if carrier is None:
        problems.append(_("不支持的快递公司：%(value)s", value=text))
        return ""
    return carrier.code


def read_tracking_no(text: str, problems: list[str]) -> str:
    if not text:
        problems.append(_("运单号不能为空"))
        return ""
    if SCIENTIFIC.match(text):
        problems.append(_("运单号被 Excel 显示成了科学计数法，请把该列设为文本后重新导出"))
        return ""
    try:
        return carriers.normalise_tracking_no(text)
    except ValidationError as exc:
        problems.append(exc.message)
        return ""


def too_many_rows() -> ValidationError:
    return file_error(_("一次最多发货 %(max)s 个订单，请分成多个文件上传", max=MAX_ROWS))


def file_error(message: str) -> ValidationError:
    return ValidationError(message, code=OrderError.INVALID_SHIP_SHEET, fields={"file": message})
