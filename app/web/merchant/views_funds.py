"""资金: the current shop's money. Tiles (待结算, 可提现, 已提现, and 欠款 when the shop owes
the platform), the statement (资金明细) of a period with the range picker the 数据 page
uses (the statement swaps over HTMX), and its export as CSV or XLSX through the reports'
writers. The withdrawal pages are views_funds_withdrawals.py.

The shop is always `g.merchant`, never the request: another shop's money is never
reachable from here. The statement page runs a fixed number of queries whatever the page
size (balances 2, the page 2, its settlement fees 1)."""
from __future__ import annotations

import os
import tempfile
from datetime import datetime, time, timedelta
from urllib.parse import quote

from flask import Response, g, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.analytics.reports.registry import Column, Kind
from app.analytics.reports.writers import CONTENT_TYPES, FORMATS, open_sheet
from app.core.clock import SHANGHAI, to_local
from app.core.htmx import is_htmx
from app.core.pagination import paginate
from app.extensions import db
from app.finance import merchant_funds, policies
from app.finance.labels import ACCOUNT_LABELS, line_label
from app.finance.states import AccountKind, TransactionKind
from app.web import date_ranges
from app.web.date_ranges import PRESET_LABELS, DateRange
from app.web.merchant.blueprint import bp
from app.web.merchant.context import merchant_required

PER_PAGE = 20
EXPORT_CHUNK = 1000
EXPORT_COLUMNS = (
    Column(_l("时间"), Kind.DATETIME, 20), Column(_l("类型"), Kind.TEXT, 16), Column(_l("订单号"), Kind.TEXT, 24),
    Column(_l("账户"), Kind.TEXT, 10), Column(_l("金额（元）"), Kind.MONEY, 14),
    Column(_l("其中平台服务费（元）"), Kind.MONEY, 18), Column(_l("备注"), Kind.TEXT, 30),
)


def period(rng: DateRange) -> tuple[datetime, datetime]:
    """The range's Shanghai days as [start, end) instants."""
    return (datetime.combine(rng.first, time(), SHANGHAI),
            datetime.combine(rng.last + timedelta(days=1), time(), SHANGHAI))


def _lines(rows) -> list[dict]:
    """The statement's rows in the shop's words. A settlement's line out of pending (always
    there) carries the platform's fee the settlement took (the rest went to available, or
    paid a debt)."""
    fees = merchant_funds.settlement_fees(r.transaction_id for r in rows if r.kind == TransactionKind.MERCHANT_SETTLEMENT)
    return [{"at": r.effective_at, "label": line_label(r.kind, r.account_kind), "order_no": r.order_no,
             "order_id": r.order_id, "account": str(ACCOUNT_LABELS.get(r.account_kind, r.account_kind)),
             "amount_fen": int(r.amount_fen), "memo": r.memo or "",
             "fee_fen": fees.get(r.transaction_id) if r.account_kind == AccountKind.MERCHANT_PENDING else None}
            for r in rows]


def _context(rng: DateRange) -> dict:
    start, end = period(rng)
    page = paginate(merchant_funds.statement(g.merchant.id, start, end), request.args.get("page", 1),
                    request.args.get("per_page", PER_PAGE), scalars=False)
    return {"rng": rng, "presets": PRESET_LABELS, "page": page, "lines": _lines(page.items),
            "may_withdraw": policies.may_withdraw(g.member)}


@bp.get("/funds")
@merchant_required()
def funds():
    rng = date_ranges.parse(request.args)
    context = _context(rng)
    if is_htmx() and request.headers.get("HX-Target") == "funds-statement":
        return render_template("merchant/funds/_statement.html", **context)
    return render_template("merchant/funds/index.html", balances=merchant_funds.balances(g.merchant.id), **context)


@bp.get("/funds/export")
@merchant_required()
def funds_export():
    """The period's statement as a file (CSV or XLSX), written by the reports' writers."""
    fmt = request.args.get("format", "csv")
    if fmt not in FORMATS:
        fmt = FORMATS[0]
    rng = date_ranges.parse(request.args)
    start, end = period(rng)
    title = _("资金明细")
    handle, path = tempfile.mkstemp(suffix=f".{fmt}")
    os.close(handle)
    try:
        sheet = open_sheet(fmt, path, EXPORT_COLUMNS, title)
        try:
            result = db.session.execute(merchant_funds.statement(g.merchant.id, start, end)
                                        .execution_options(yield_per=EXPORT_CHUNK))
            for chunk in result.partitions():
                sheet.write(
                    (to_local(line["at"]).replace(tzinfo=None), line["label"], line["order_no"], line["account"],
                     line["amount_fen"], line["fee_fen"], line["memo"]) for line in _lines(chunk))
        except Exception:
            sheet.abandon()
            raise
        sheet.close()
        with open(path, "rb") as file:
            body = file.read()
    finally:
        os.unlink(path)
    response = Response(body, mimetype=CONTENT_TYPES[fmt].split(";")[0])
    response.headers["Content-Type"] = CONTENT_TYPES[fmt]
    name = f"{title}-{rng.first.isoformat()}-{rng.last.isoformat()}.{fmt}"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"statement-{rng.first.isoformat()}-{rng.last.isoformat()}.{fmt}\"; "
        f"filename*=UTF-8''{quote(name)}")
    return response
