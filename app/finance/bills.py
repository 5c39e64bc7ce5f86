"""Reading the gateways' daily bills (对账单) into typed rows for reconciliation.

- WeChat Pay 交易账单 (bill_type ALL), as downloaded: a header row 交易时间,公众账号ID,商户号,...;
  every value prefixed with a backtick (so Excel keeps long numbers as text); `交易状态`
  SUCCESS (a payment), REFUND (a refund: 商户退款单号, 申请退款金额/退款金额, 退款状态) or
  REVOKED (nothing moved, skipped); then the summary 总交易单数,... and its values.
- Alipay 业务明细 (账务明细 from the trade bill zip), GBK: '#' comment lines before and after,
  a header 支付宝交易号,商户订单号,业务类型,...,订单金额（元）,商家实收（元）,...,
  退款批次号/请求号,服务费（元）,...; `业务类型` 交易 (a payment) or 退款 (a refund: the
  amount written negative, our `out_refund_no` in 退款批次号/请求号); values often carry a
  trailing tab (Alipay's way of keeping them text).

Both: UTF-8 (with or without BOM) or GBK/GB18030, CRLF or LF. Amounts go through
`app.core.money.yuan_to_fen` (two decimals at most, bounded). Times are Beijing time and
come back in UTC.

Guarantees: a file that is not such a bill (not text, another header, a row that cannot be
read, a summary that disagrees with the rows) or that is too big (MAX_BILL_BYTES, MAX_BILL_ROWS)
raises `ValidationError` with a Chinese message naming the line, never anything else.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from flask_babel import gettext as _

from app.core.clock import SHANGHAI
from app.core.errors import ValidationError
from app.core.money import InvalidAmount, yuan_to_fen
from app.core.text import decode_upload
from app.finance.reconciliation_states import ReconciliationError

MAX_BILL_BYTES = 20 * 1024 * 1024
MAX_BILL_ROWS = 200_000
MAX_CELL_CHARS = 256
HEAD_AND_FOOT_LINES = 20  # the header, Alipay's '#' lines, WeChat's summary
PLAIN_AMOUNT = re.compile(r"\d{1,12}(\.\d{1,5})?")  # "12.34"; WeChat writes fees with five decimals
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M")


class BillRowKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"


@dataclass(frozen=True)
class BillRow:
    line: int  # as a text editor numbers it (the header's line included)
    kind: BillRowKind
    out_trade_no: str
    transaction_id: str  # the gateway's number for the trade
    out_refund_no: str | None  # refunds: ours, as we sent it
    amount_fen: int  # what was collected, or refunded (always positive)
    occurred_at: datetime  # UTC
    refund_status: str | None = None  # refunds: "succeeded" | "pending" | "failed" as the bill says


def bill_error(message: str, code: str = ReconciliationError.BILL_INVALID) -> ValidationError:
    return ValidationError(message, code=code, fields={"bill": message})


def decode(data: bytes) -> str:
    """The bill's text: UTF-8 (BOM or not) first, then GB18030 (a superset of GBK)."""
    if len(data) > MAX_BILL_BYTES:
        raise bill_error(_("账单文件不能超过 %(n)d MB", n=MAX_BILL_BYTES // (1024 * 1024)),
                         ReconciliationError.BILL_TOO_LARGE)
    if not data.strip():
        raise bill_error(_("账单文件是空的"))
    if b"\x00" in data[:4096]:
        raise bill_error(_("这不是 CSV 文本文件，请上传从支付平台下载的对账单 CSV"))
    text = decode_upload(data)
    if text is None:
        raise bill_error(_("无法识别账单的文字编码（应为 UTF-8 或 GBK）"))
    return text


def _rows(text: str):
    """(line number, cells) of every non-blank line, the cells trimmed of blanks, tabs and the
    backtick WeChat puts before each value."""
    reader = csv.reader(io.StringIO(text, newline=""))
    seen = 0
    try:
        for cells in reader:
            cleaned = [cell.strip().lstrip("`").strip()[:MAX_CELL_CHARS] for cell in cells]
            if any(cleaned):
                seen += 1
                if seen > MAX_BILL_ROWS + HEAD_AND_FOOT_LINES:
                    raise bill_error(_("账单超过 %(n)d 行，请按天下载后分别上传", n=MAX_BILL_ROWS),
                                     ReconciliationError.BILL_TOO_LARGE)
                yield reader.line_num, cleaned
    except csv.Error as exc:
        raise bill_error(_("第 %(line)d 行不是有效的 CSV：%(error)s", line=reader.line_num, error=str(exc)[:80])) from None


def _normalise_header(cell: str) -> str:
    return cell.replace("(", "（").replace(")", "）").replace(" ", "")


def _amount(text: str, line: int, column: str, *, signed: bool = False) -> int:
    raw = text.replace(",", "").replace("¥", "").replace("￥", "").strip()
    negative = signed and raw.startswith("-")
    digits = raw[1:] if negative else raw
    try:
        if not PLAIN_AMOUNT.fullmatch(digits):
            raise InvalidAmount(digits)
        fen = yuan_to_fen(digits)
    except InvalidAmount:
        raise bill_error(_("第 %(line)d 行“%(column)s”不是有效金额：%(value)s",
                           line=line, column=column, value=text[:40])) from None
    return -fen if negative else fen


def _time(text: str, line: int) -> datetime:
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=SHANGHAI).astimezone(UTC)
        except ValueError:
            continue
    raise bill_error(_("第 %(line)d 行的时间无法识别：%(value)s", line=line, value=text[:40]))


def _columns(cells: list[str], required: tuple[str, ...], message: str) -> dict[str, int]:
    names = [_normalise_header(c) for c in cells]
    positions = {}
    for i, name in enumerate(names):
        positions.setdefault(name, i)
    if any(name not in positions for name in required):
        raise bill_error(message)
    return positions


# --- WeChat Pay ------------------------------------------------------------------------------

WECHAT_REQUIRED = ("交易时间", "微信订单号", "商户订单号", "交易状态", "应结订单金额", "商户退款单号", "退款金额")
WECHAT_SUMMARY = "总交易单数"
WECHAT_REFUND_STATES = {"SUCCESS": "succeeded", "PROCESSING": "pending"}


def parse_wechat(data: bytes) -> list[BillRow]:
    """The rows of a WeChat Pay 交易账单 (ALL). See the module docstring."""
    lines = _rows(decode(data))
    first = next(lines, None)
    header_message = _("不是微信支付交易账单：第一行应为 交易时间,公众账号ID,商户号,…,微信订单号,商户订单号,… 的表头")
    if first is None:
        raise bill_error(header_message)
    at = _columns(first[1], WECHAT_REQUIRED, header_message)

    def cell(cells: list[str], name: str) -> str:
        position = at.get(name)
        return cells[position] if position is not None and position < len(cells) else ""

    rows: list[BillRow] = []
    summary: list[str] | None = None
    details = 0
    for line, cells in lines:
        if cells[0] == WECHAT_SUMMARY:
            summary = next(lines, (line, []))[1]
            break
        details += 1
        if len(cells) < len(at):
            raise bill_error(_("第 %(line)d 行的列数与表头不符", line=line))
        state = cell(cells, "交易状态").upper()
        out_trade_no, transaction_id = cell(cells, "商户订单号"), cell(cells, "微信订单号")
        if not out_trade_no:
            raise bill_error(_("第 %(line)d 行缺少商户订单号", line=line))
        occurred_at = _time(cell(cells, "交易时间"), line)
        if state == "SUCCESS":
            column = "订单金额" if cell(cells, "订单金额") else "应结订单金额"
            amount = _amount(cell(cells, column), line, column)
            rows.append(BillRow(line, BillRowKind.PAYMENT, out_trade_no, transaction_id, None, amount, occurred_at))
        elif state == "REFUND":
            out_refund_no = cell(cells, "商户退款单号")
            if not out_refund_no or out_refund_no == "0":
                raise bill_error(_("第 %(line)d 行是退款，但缺少商户退款单号", line=line))
            column = "申请退款金额" if _nonzero(cell(cells, "申请退款金额")) else "退款金额"
            amount = _amount(cell(cells, column), line, column)
            status = WECHAT_REFUND_STATES.get(cell(cells, "退款状态").upper(), "failed")
            rows.append(BillRow(line, BillRowKind.REFUND, out_trade_no, transaction_id, out_refund_no, amount,
                                occurred_at, status))
        elif state == "REVOKED":
            continue  # cancelled before any money moved
        else:
            raise bill_error(_("第 %(line)d 行的交易状态无法识别：%(value)s", line=line, value=state[:20]))
        if rows[-1].amount_fen <= 0:
            raise bill_error(_("第 %(line)d 行的金额应大于 0", line=line))
    # The summary counts every detail line (revoked ones too): a cut-off download disagrees.
    if summary and summary[0].isdigit() and int(summary[0]) != details:
        raise bill_error(_("账单不完整：汇总写 %(n)s 笔，明细有 %(m)d 行", n=summary[0], m=details))
    return rows


def _nonzero(text: str) -> bool:
    return bool(text) and text.strip("0.") != ""


# --- Alipay ------------------------------------------------------------------------------------

ALIPAY_REQUIRED = ("支付宝交易号", "商户订单号", "业务类型", "完成时间", "订单金额（元）", "退款批次号/请求号")


def parse_alipay(data: bytes) -> list[BillRow]:
    """The rows of an Alipay 业务明细 CSV. See the module docstring."""
    lines = ((line, cells) for line, cells in _rows(decode(data)) if not cells[0].startswith("#"))
    first = next(lines, None)
    header_message = _("不是支付宝业务明细：表头应为 支付宝交易号,商户订单号,业务类型,…,订单金额（元）,商家实收（元）,…")
    if first is None:
        raise bill_error(header_message)
    at = _columns(first[1], ALIPAY_REQUIRED, header_message)

    def cell(cells: list[str], name: str) -> str:
        position = at.get(name)
        return cells[position] if position is not None and position < len(cells) else ""

    rows: list[BillRow] = []
    for line, cells in lines:
        kind = cell(cells, "业务类型")
        out_trade_no, transaction_id = cell(cells, "商户订单号"), cell(cells, "支付宝交易号")
        if not out_trade_no:
            raise bill_error(_("第 %(line)d 行缺少商户订单号", line=line))
        occurred_at = _time(cell(cells, "完成时间") or cell(cells, "创建时间"), line)
        amount = abs(_amount(cell(cells, "订单金额（元）"), line, "订单金额（元）", signed=True))
        if amount <= 0:
            raise bill_error(_("第 %(line)d 行的金额应大于 0", line=line))
        if kind == "交易":
            rows.append(BillRow(line, BillRowKind.PAYMENT, out_trade_no, transaction_id, None, amount, occurred_at))
        elif kind == "退款":
            out_refund_no = cell(cells, "退款批次号/请求号")
            if not out_refund_no:
                raise bill_error(_("第 %(line)d 行是退款，但缺少退款批次号/请求号", line=line))
            rows.append(BillRow(line, BillRowKind.REFUND, out_trade_no, transaction_id, out_refund_no, amount,
                                occurred_at, "succeeded"))
        else:
            raise bill_error(_("第 %(line)d 行的业务类型无法识别：%(value)s", line=line, value=kind[:20]))
    return rows


# Our provider names (Payment.provider) and their bill's reader.
PARSERS: dict[str, Callable[[bytes], list[BillRow]]] = {"wechatpay": parse_wechat, "alipay": parse_alipay}


def parse(provider: str, data: bytes) -> list[BillRow]:
    """The rows of `provider`'s bill (ValidationError for anything else, see the module)."""
    if provider not in PARSERS:
        raise bill_error(_("不支持该支付渠道的账单：%(p)s", p=str(provider)[:20]))
    return PARSERS[provider](data)
