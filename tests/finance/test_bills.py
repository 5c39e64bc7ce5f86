"""The gateways' bills (app/finance/bills.py): WeChat Pay 交易账单 and Alipay 业务明细 read into
typed rows as downloaded (backticks, GBK, BOM or not, CRLF or LF, '#' lines, summaries);
anything else is a ValidationError with a Chinese message, never a crash."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.core.errors import ValidationError
from app.finance import bills
from app.finance.bills import BillRowKind

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize("name", ["wechat_trade_bill.csv", "wechat_trade_bill_bom_lf.csv"])
def test_a_wechat_trade_bill_reads_payments_and_refunds(name):
    rows = bills.parse("wechatpay", fixture(name))
    assert [(r.kind, r.out_trade_no, r.out_refund_no, r.amount_fen) for r in rows] == [
        (BillRowKind.PAYMENT, "P202612070001", None, 9900),
        (BillRowKind.PAYMENT, "P202612070002", None, 1234),
        (BillRowKind.REFUND, "P202612070001", "RF202612070001", 3000),
    ]  # the revoked line moved no money
    first = rows[0]
    assert first.transaction_id == "4200000001202612070000000001" and first.line == 2
    # Beijing time in the bill, UTC here: 23:59:59 on the 7th is 15:59:59 UTC
    assert rows[1].occurred_at == datetime(2026, 12, 7, 15, 59, 59, tzinfo=UTC)
    assert rows[2].refund_status == "succeeded"


def test_an_alipay_business_detail_in_gbk_reads_payments_and_refunds():
    data = fixture("alipay_business_detail_gbk.csv")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the fixture really is GBK, as Alipay sends it
    rows = bills.parse("alipay", data)
    assert [(r.kind, r.out_trade_no, r.transaction_id, r.out_refund_no, r.amount_fen) for r in rows] == [
        (BillRowKind.PAYMENT, "A202612070001", "2026120722001400001000000001", None, 5880),
        (BillRowKind.REFUND, "A202612070001", "2026120722001400001000000001", "RF202612070009", 880),
    ]
    assert rows[1].occurred_at == datetime(2026, 12, 7, 10, 20, tzinfo=UTC)


def test_an_alipay_bill_saved_as_utf8_with_ascii_brackets_reads_too():
    text = fixture("alipay_business_detail_gbk.csv").decode("gbk").replace("（元）", "(元)")
    rows = bills.parse("alipay", ("\ufeff" + text).encode("utf-8"))
    assert [r.amount_fen for r in rows] == [5880, 880]


@pytest.mark.parametrize(("provider", "data", "words"), [
    ("wechatpay", fixture("not_a_bill.csv"), "不是微信支付交易账单"),
    ("alipay", fixture("not_a_bill.csv"), "不是支付宝业务明细"),
    ("alipay", fixture("wechat_trade_bill.csv"), "不是支付宝业务明细"),  # the wrong gateway's bill
    ("wechatpay", fixture("alipay_business_detail_gbk.csv"), "不是微信支付交易账单"),
    ("wechatpay", b"", "空的"),
    ("wechatpay", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "不是 CSV"),
    ("wechatpay", b"\xff\xfe\xfa\xfb" * 10, "编码"),
    ("wechatpay", fixture("wechat_summary_disagrees.csv"), "账单不完整"),
    ("paypal", fixture("wechat_trade_bill.csv"), "不支持"),
])
def test_what_is_not_the_bill_is_refused_with_a_clear_message(provider, data, words):
    with pytest.raises(ValidationError) as refused:
        bills.parse(provider, data)
    assert words in refused.value.message and refused.value.status == 422
    assert refused.value.fields == {"bill": refused.value.message}


def wechat_with(**cells) -> bytes:
    """The WeChat fixture with some cells of its first payment row changed."""
    text = fixture("wechat_trade_bill.csv").decode("utf-8")
    header, first, *rest = text.split("\r\n")
    names = header.split(",")
    values = first.split(",")
    for name, value in cells.items():
        values[names.index(name)] = "`" + value
    return "\r\n".join([header, ",".join(values), *rest]).encode("utf-8")


@pytest.mark.parametrize(("cells", "words"), [
    ({"订单金额": "99.001"}, "不是有效金额"),
    ({"订单金额": "1e3"}, "不是有效金额"),
    ({"订单金额": "-5.00"}, "不是有效金额"),
    ({"订单金额": "99999999999.00"}, "不是有效金额"),  # beyond the bounds
    ({"订单金额": "0.00"}, "应大于 0"),
    ({"交易时间": "昨天"}, "时间无法识别"),
    ({"交易状态": "PAYERROR"}, "交易状态无法识别"),
    ({"商户订单号": ""}, "缺少商户订单号"),
])
def test_a_bad_row_names_its_line(cells, words):
    with pytest.raises(ValidationError) as refused:
        bills.parse("wechatpay", wechat_with(**cells))
    assert words in refused.value.message and "第 2 行" in refused.value.message


def test_too_large_and_too_many_rows_are_refused(monkeypatch):
    with pytest.raises(ValidationError) as refused:
        bills.parse("wechatpay", b"a" * (bills.MAX_BILL_BYTES + 1))
    assert refused.value.code == "bill_too_large" and "20 MB" in refused.value.message
    monkeypatch.setattr(bills, "MAX_BILL_ROWS", 1)
    monkeypatch.setattr(bills, "HEAD_AND_FOOT_LINES", 1)
    with pytest.raises(ValidationError) as refused:
        bills.parse("wechatpay", fixture("wechat_trade_bill.csv"))
    assert refused.value.code == "bill_too_large"
