"""`flask finance reconcile --date ... [--wechat-bill PATH] [--alipay-bill PATH]`: a line per
difference and `differences: N`; exit 0 with none, 1 with some, 2 for a bad date or file."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.finance import reconciliation
from app.finance.reconciliation_models import ReconciliationRun

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=["finance", "reconcile", *args])

    return invoke


def test_a_quiet_day_prints_no_difference_and_exits_0(cli, sold, make_user):
    order = sold(make_user())
    result = cli("--date", reconciliation.today().isoformat())
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "differences: 0"
    run = db.session.scalar(sa.select(ReconciliationRun))
    assert run.trigger == "cli" and run.checked["payments"] == 1 and order.payment_id


def test_differences_are_printed_one_a_line_and_exit_1(cli):
    day = reconciliation.today().isoformat()
    result = cli("--date", day, "--wechat-bill", str(FIXTURES / "wechat_trade_bill.csv"),
                 "--alipay-bill", str(FIXTURES / "alipay_business_detail_gbk.csv"))
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[-1] == "differences: 5"
    differences = [line.split("\t") for line in lines[:-2]]
    assert [(d[0], d[1], d[2]) for d in differences] == [
        ("bill_payment_unknown", "wechatpay", "P202612070001"),
        ("bill_payment_unknown", "wechatpay", "P202612070002"),
        ("bill_refund_unknown", "wechatpay", "RF202612070001"),
        ("bill_payment_unknown", "alipay", "A202612070001"),
        ("bill_refund_unknown", "alipay", "RF202612070009"),
    ]
    assert differences[0][3:5] == ["expected=-", "actual=99.00"]
    run = db.session.scalar(sa.select(ReconciliationRun))
    assert [b["filename"] for b in run.bills] == ["wechat_trade_bill.csv", "alipay_business_detail_gbk.csv"]


@pytest.mark.parametrize(("args", "words"), [
    (["--date", "2026-13-01"], "YYYY-MM-DD"),
    (["--date", "yesterday"], "YYYY-MM-DD"),
    (["--date", "2999-01-01"], "只能对今天及以前的日期对账"),
    (["--date", "2026-12-07", "--wechat-bill", "/nonexistent/bill.csv"], "no such file"),
    (["--date", "2026-12-07", "--wechat-bill", str(FIXTURES / "not_a_bill.csv")], "不是微信支付交易账单"),
    (["--date", "2026-12-07", "--alipay-bill", str(FIXTURES / "wechat_trade_bill.csv")], "不是支付宝业务明细"),
])
def test_a_bad_date_or_file_exits_2_with_the_reason_and_stores_nothing(cli, args, words):
    result = cli(*args)
    assert result.exit_code == 2 and words in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReconciliationRun)) == 0


def test_an_earlier_day_is_fine(cli):
    result = cli("--date", (reconciliation.today() - timedelta(days=3)).isoformat())
    assert result.exit_code == 0 and "differences: 0" in result.output
