"""Reconciliation (app/finance/reconciliation.py): a day's payments, refunds, commissions,
completed orders and withdrawals against the books, the books against themselves, and the
gateways' bills against our payments and refunds. Payments are real checkouts paid through
the sandbox or the fake WeChat Pay server, refunded, completed and settled through the
real services, which make their postings (app/finance/postings.py); the differences are
made by writing business rows or ledger rows past those services."""
# ruff: noqa: F811  (the fixtures imported below are named as test arguments)
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.aftersales import platform as aftersale_platform
from app.core.clock import SHANGHAI, travel, utcnow
from app.core.db import transaction
from app.core.errors import Conflict, Forbidden, ValidationError
from app.core.models import AuditLog
from app.distribution import rules as distribution_rules
from app.distribution.models import Commission, Distributor, Withdrawal
from app.extensions import db
from app.finance import bills, ledger, reconciliation
from app.finance import tasks as finance_tasks
from app.finance.models import LedgerAccount, LedgerEntry, LedgerTransaction, MerchantWithdrawal
from app.finance.reconciliation_models import ReconciliationDifference, ReconciliationRun
from app.finance.reconciliation_states import DifferenceKind as K
from app.finance.states import AccountKind, TransactionKind
from app.notifications.models import Message
from app.orders import numbers
from app.orders import services as order_services
from app.orders.models import Order
from app.orders.states import OrderStatus
from app.payments.models import Payment, Refund
from app.payments.states import PaymentStatus
from tests.payments.conftest import payment_keys, wechatpay_fake  # noqa: F401  (fixtures)
from tests.payments.test_notification_matrix import (  # noqa: F401  (gateway_for, checkout are fixtures)
    checkout,
    gateway_for,
    refunds_of,
    run_until,
)

FIXTURES = Path(__file__).parent / "fixtures"
WECHAT_HEADER = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
                 "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,"
                 "商户数据包,手续费,费率,订单金额,申请退款金额,费率备注")


# --- helpers -----------------------------------------------------------------------------------------

def day_of(payment_id: int) -> date:
    return db.session.get(Payment, payment_id).paid_at.astimezone(SHANGHAI).date()


def found(run: ReconciliationRun) -> list[tuple[str, str]]:
    return sorted((d.kind, d.reference) for d in run.differences)


def run_of(day: date, bill_rows=(), actor=None) -> ReconciliationRun:
    with transaction():
        run = reconciliation.reconcile(day, bill_rows, actor)
    db.session.expire_all()
    return db.session.get(ReconciliationRun, run.id)


def wechat_bill(*rows: tuple) -> bytes:
    """A WeChat 交易账单 with (state, out_trade_no, transaction_id, amount_fen[, out_refund_no]) rows."""
    lines = [WECHAT_HEADER]
    for state, trade_no, txn, fen, *refund in rows:
        yuan = f"{fen // 100}.{fen % 100:02d}"
        refund_no = refund[0] if refund else "0"
        cells = ["2026-12-07 10:00:00", "wx8888888888888888", "1900000109", "0", "", txn, trade_no, "openid", "JSAPI",
                 state, "OTHERS", "CNY", yuan if state == "SUCCESS" else "0.00", "0.00", "0", refund_no,
                 yuan if state == "REFUND" else "0.00", "0.00", "", "SUCCESS" if state == "REFUND" else "", "订单", "",
                 "0.00000", "0.60%", yuan if state == "SUCCESS" else "0.00", yuan if state == "REFUND" else "0.00", ""]
        lines.append(",".join("`" + c for c in cells))
    lines += ["总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额",
              f"`{len(rows)},`0.00,`0.00,`0.00,`0.00,`0.00,`0.00"]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


@pytest.fixture
def paid_sandbox(sold, make_user):
    """A sandbox order paid through the real services, and its postings."""
    order = sold(make_user())
    return order


@pytest.fixture
def wechat_paid(gateway_for, checkout, client):
    """A checkout paid through the fake WeChat Pay server: (gateway, payment id, transaction id)."""
    gateway = gateway_for("wechatpay")
    buyer, payment, _skus, _c = checkout(gateway)
    gateway.start(buyer, payment)
    tid = gateway.pay(payment.out_trade_no, payment.amount_fen)
    assert gateway.is_success(gateway.post(client, *gateway.notification(payment.out_trade_no, payment.amount_fen, tid)))
    return gateway, payment.id, tid


# --- internal checks ------------------------------------------------------------------------------------

def test_a_day_whose_books_agree_has_no_difference_and_says_what_it_looked_at(paid_sandbox):
    run = run_of(day_of(paid_sandbox.payment_id))
    assert run.differences == [] and run.difference_count == 0 and run.finished_at is not None
    assert run.checked["payments"] == 1 and run.checked["accounts"] >= 2 and run.checked["transactions"] >= 1
    assert run.trigger == "admin" and run.bills == [] and run.job_day is None


def test_a_day_of_refunds_and_a_settlement_through_the_services_reconciles(sold, make_user, run_jobs):
    refunded, completed = sold(make_user()), sold(make_user(), status="received")
    with transaction():
        aftersale_platform.cancel_and_refund(make_user(admin_role="super"), refunded.order_no, None, "缺货，平台退款")
    run_until(run_jobs, lambda: refunds_of(refunded.payment_id) and refunds_of(refunded.payment_id)[0].status
              == "succeeded")
    run = run_of(day_of(refunded.payment_id))
    assert run.differences == [] and run.checked["refunds_created"] == run.checked["refunds_succeeded"] == 1
    with travel(timedelta(days=40)):  # past the after-sales window: the order completes and settles
        with transaction():
            assert order_services.complete(completed.id)
        later = run_of(reconciliation.today())
    assert later.differences == [] and later.checked["orders_completed"] == 1
    assert db.session.get(Order, completed.id).settled_at is not None


def test_a_collection_that_does_not_add_up_is_a_difference(paid_sandbox):
    payment = db.session.get(Payment, paid_sandbox.payment_id)
    with transaction():  # one fen more collected for the trade than it took
        ledger.post(TransactionKind.COLLECTION, "test:extra", [
            (ledger.account(AccountKind.CLEARING, provider=payment.provider), 1),
            (ledger.account(AccountKind.PLATFORM_FEES), -1)], source="payment", source_id=payment.id)
    run = run_of(day_of(payment.id))
    [difference] = run.differences
    assert (difference.kind, difference.reference) == (K.COLLECTION_MISMATCH, payment.out_trade_no)
    assert (difference.expected_fen, difference.actual_fen) == (payment.amount_fen, payment.amount_fen + 1)


def test_business_rows_without_their_postings_are_differences(paid_sandbox, make_user):
    """A refund, a refund that succeeded, a commission, a completed order and a paid
    withdrawal that never reached the books (written here without their services)."""
    order = paid_sandbox
    now = utcnow()
    with transaction():
        version = distribution_rules.defaults()
        distributor = Distributor(user_id=make_user().id, status="active", code="RECON1")
        db.session.add_all([version, distributor])
        db.session.flush()
        started = Refund(payment_id=order.payment_id, order_id=order.id, out_refund_no="RFTEST1", provider="sandbox",
                         out_trade_no="x", amount_fen=500, reason="test")
        done = Refund(payment_id=order.payment_id, order_id=order.id, out_refund_no="RFTEST2", provider="sandbox",
                      out_trade_no="x", amount_fen=700, reason="test", status="succeeded", finished_at=now)
        commission = Commission(order_id=order.id, order_item_id=order.items[0].id, buyer_id=order.buyer_id, level=1,
                                distributor_id=distributor.id, rules_version=version.id,
                                base_fen=order.items_fen, rate_bp=1000, amount_fen=1980)
        withdrawal = Withdrawal(distributor_id=distributor.id, amount_fen=3000, fee_fen=0, method="alipay",
                                account={"name": "张三", "account": "x@example.com"}, status="paid", paid_at=now)
        shop_withdrawal = MerchantWithdrawal(merchant_id=order.merchant_id, requested_by_id=order.buyer_id,
                                             amount_fen=2000, fee_fen=0, method="bank", status="paid", paid_at=now)
        db.session.add_all([started, done, commission, withdrawal, shop_withdrawal])
        # as the refunds' service counts them on the payment (else they would read as second collections)
        db.session.execute(sa.update(Payment).where(Payment.id == order.payment_id).values(refunded_fen=1200))
        db.session.execute(sa.update(Order).where(Order.id == order.id).values(
            status=OrderStatus.COMPLETED, completed_at=now))
    run = run_of(day_of(order.payment_id))
    assert found(run) == sorted([
        (K.REFUND_START_MISSING, "RFTEST1"), (K.REFUND_START_MISSING, "RFTEST2"), (K.REFUND_DONE_MISSING, "RFTEST2"),
        (K.COMMISSION_MISSING, f"commission:{commission.id}"), (K.ORDER_NOT_SETTLED, order.order_no),
        (K.WITHDRAWAL_PAID_MISSING, f"distributor-withdrawal:{withdrawal.id}"),
        (K.WITHDRAWAL_PAID_MISSING, f"merchant-withdrawal:{shop_withdrawal.id}"),
    ])
    by_ref = {(d.kind, d.reference): d for d in run.differences}
    assert by_ref[(K.REFUND_START_MISSING, "RFTEST1")].expected_fen == 500
    assert by_ref[(K.COMMISSION_MISSING, f"commission:{commission.id}")].expected_fen == 1980


def test_a_settled_order_that_still_holds_pending_money_is_a_difference(paid_sandbox):
    order = paid_sandbox
    with transaction():
        db.session.execute(sa.update(Order).where(Order.id == order.id).values(
            status=OrderStatus.COMPLETED, completed_at=utcnow(), settled_at=utcnow()))
    run = run_of(day_of(order.payment_id))
    held = ledger.shown_balance(AccountKind.MERCHANT_PENDING, order.merchant_id)
    assert [(d.kind, d.reference, d.expected_fen, d.actual_fen) for d in run.differences] == [
        (K.ORDER_PENDING_LEFT, order.order_no, 0, held)]


def test_an_unbalanced_transaction_and_a_cached_balance_off_its_entries_are_differences(paid_sandbox):
    fees = ledger.account(AccountKind.PLATFORM_FEES)
    with transaction():
        ledger.post(TransactionKind.ADJUSTMENT, "test:fee", [
            (ledger.account(AccountKind.CLEARING, provider="sandbox"), 100), (fees, -100)])
    posted = db.session.scalar(sa.select(LedgerTransaction).where(LedgerTransaction.idempotency_key == "test:fee"))
    # What the books refuse (PostgreSQL at commit, `post` always), written past them; this
    # test's transaction is rolled back before it could ever commit.
    db.session.execute(sa.insert(LedgerEntry).values(transaction_id=posted.id, account_id=fees.id, amount_fen=-1))
    db.session.execute(sa.update(LedgerAccount).where(LedgerAccount.id == fees.id)
                       .values(balance_fen=LedgerAccount.balance_fen - 5))
    run = run_of(day_of(paid_sandbox.payment_id))
    assert [(d.kind, d.reference, d.expected_fen, d.actual_fen) for d in run.differences] == [
        (K.UNBALANCED_TRANSACTION, "test:fee", 0, -1), (K.BALANCE_MISMATCH, "platform_fees", -101, -105)]


def test_a_run_again_keeps_the_history_and_the_day_is_shanghais(paid_sandbox):
    day = day_of(paid_sandbox.payment_id)
    first, second = run_of(day), run_of(day)
    assert first.id != second.id and db.session.scalar(sa.select(sa.func.count()).select_from(ReconciliationRun)) == 2
    assert run_of(day - timedelta(days=1)).checked["payments"] == 0  # paid today is not yesterday's
    start, end = reconciliation.day_bounds(date(2026, 12, 7))
    assert (start.isoformat(), end.isoformat()) == ("2026-12-06T16:00:00+00:00", "2026-12-07T16:00:00+00:00")


def test_a_day_to_come_is_refused(make_user):
    with pytest.raises(ValidationError) as refused:
        reconciliation.reconcile(reconciliation.today() + timedelta(days=1))
    assert refused.value.code == "bad_reconciliation_day"


def test_only_finance_and_super_admins_may_run_one(make_user):
    with pytest.raises(Forbidden):
        reconciliation.reconcile(reconciliation.today(), actor=make_user(admin_role="operator"))
    with pytest.raises(Forbidden):
        reconciliation.reconcile(reconciliation.today(), actor=make_user())
    for role in ("finance", "super"):
        assert run_of(reconciliation.today(), actor=make_user(admin_role=role)).actor_id is not None


# --- bills ------------------------------------------------------------------------------------------------

def test_a_wechat_bill_that_matches_has_no_difference(wechat_paid):
    _gateway, payment_id, tid = wechat_paid
    payment = db.session.get(Payment, payment_id)
    assert payment.provider == "wechatpay" and payment.status == PaymentStatus.PAID
    rows = bills.parse("wechatpay", wechat_bill(("SUCCESS", payment.out_trade_no, tid, payment.amount_fen)))
    run = run_of(day_of(payment_id), [("wechatpay", rows)])
    assert run.differences == [] and run.bills == [
        {"provider": "wechatpay", "filename": None, "payments": 1, "refunds": 0}]


def test_a_wechat_bill_with_rows_we_do_not_know_or_amounts_that_differ(wechat_paid):
    _gateway, payment_id, tid = wechat_paid
    payment = db.session.get(Payment, payment_id)
    rows = bills.parse("wechatpay", wechat_bill(
        ("SUCCESS", payment.out_trade_no, tid, payment.amount_fen + 1),  # another amount
        ("SUCCESS", "P_NOT_OURS_1", "4200000009", 1500),  # money we never recorded
        ("REFUND", payment.out_trade_no, tid, 300, "RF_NOT_OURS"),  # a refund we never asked for
    ))
    run = run_of(day_of(payment_id), [("wechatpay", rows)])
    assert [(d.kind, d.reference, d.expected_fen, d.actual_fen, d.provider) for d in run.differences] == [
        (K.BILL_AMOUNT_MISMATCH, payment.out_trade_no, payment.amount_fen, payment.amount_fen + 1, "wechatpay"),
        (K.BILL_PAYMENT_UNKNOWN, "P_NOT_OURS_1", None, 1500, "wechatpay"),
        (K.BILL_REFUND_UNKNOWN, "RF_NOT_OURS", None, 300, "wechatpay"),
    ]


def test_our_payment_missing_from_the_bill_is_a_difference(wechat_paid):
    _gateway, payment_id, _tid = wechat_paid
    payment = db.session.get(Payment, payment_id)
    run = run_of(day_of(payment_id), [("wechatpay", bills.parse("wechatpay", wechat_bill()))])
    assert found(run) == [(K.PAYMENT_MISSING_FROM_BILL, payment.out_trade_no)]
    # a bill of another gateway does not miss it
    assert run_of(day_of(payment_id), [("alipay", [])]).differences == []


def test_a_second_collection_matches_our_refund_of_it_once_it_succeeded(wechat_paid, client, run_jobs):
    gateway, payment_id, tid = wechat_paid
    payment = db.session.get(Payment, payment_id)
    second = "4200000777"  # the buyer paid the trade again (another tab)
    assert gateway.is_success(gateway.post(client, *gateway.notification(payment.out_trade_no, payment.amount_fen,
                                                                         second)))
    [refund] = refunds_of(payment_id)
    assert refund.out_refund_no == numbers.duplicate_refund_no(second, payment.out_trade_no)
    bill = wechat_bill(("SUCCESS", payment.out_trade_no, tid, payment.amount_fen),
                       ("SUCCESS", payment.out_trade_no, second, payment.amount_fen),
                       ("REFUND", payment.out_trade_no, second, payment.amount_fen, refund.out_refund_no))
    rows = bills.parse("wechatpay", bill)
    # the gateway has not confirmed our refund yet: the bill says it has
    assert found(run_of(day_of(payment_id), [("wechatpay", rows)])) == [(K.BILL_REFUND_MISMATCH, refund.out_refund_no)]
    run_until(run_jobs, lambda: refunds_of(payment_id)[0].status == "succeeded")
    assert run_of(day_of(payment_id), [("wechatpay", rows)]).differences == []
    # a third collection nobody sent back
    third = bills.parse("wechatpay", wechat_bill(("SUCCESS", payment.out_trade_no, "4200000888", payment.amount_fen)))
    assert found(run_of(day_of(payment_id), [("wechatpay", [*rows, *third])])) == [
        (K.BILL_DUPLICATE_UNRECORDED, payment.out_trade_no)]


def test_an_alipay_bill_of_trades_we_do_not_know(paid_sandbox):
    rows = bills.parse("alipay", (FIXTURES / "alipay_business_detail_gbk.csv").read_bytes())
    run = run_of(day_of(paid_sandbox.payment_id), [("alipay", rows)])
    assert found(run) == [(K.BILL_PAYMENT_UNKNOWN, "A202612070001"), (K.BILL_REFUND_UNKNOWN, "RF202612070009")]


# --- handling ---------------------------------------------------------------------------------------------

@pytest.fixture
def difference(paid_sandbox) -> ReconciliationDifference:
    """One difference to handle: a shop's cached balance a fen off its entries."""
    with transaction():
        db.session.execute(sa.update(LedgerAccount).where(LedgerAccount.code.like("merchant_pending:%"))
                           .values(balance_fen=LedgerAccount.balance_fen - 1))
    return run_of(day_of(paid_sandbox.payment_id)).differences[0]


def test_finance_marks_a_difference_handled_once_with_a_note(difference, make_user):
    finance = make_user(admin_role="finance")
    with pytest.raises(ValidationError) as refused:
        reconciliation.mark_handled(finance, difference.id, "  ")
    assert refused.value.fields == {"note": "请填写处理说明"}
    with transaction():
        reconciliation.mark_handled(finance, difference.id, "已联系技术重算余额")
    db.session.expire_all()
    handled = db.session.get(ReconciliationDifference, difference.id)
    assert handled.handled_by_id == finance.id and handled.handled_note == "已联系技术重算余额"
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "reconciliation.handle"))
    assert audit.actor_id == finance.id and audit.target_id == str(difference.id)
    with pytest.raises(Conflict):
        reconciliation.mark_handled(make_user(admin_role="super"), difference.id, "again")


@pytest.mark.parametrize("role", ["operator", None])
def test_others_may_not_mark_a_difference_handled(difference, make_user, role):
    with pytest.raises(Forbidden):
        reconciliation.mark_handled(make_user(admin_role=role) if role else make_user(), difference.id, "x")
    assert db.session.get(ReconciliationDifference, difference.id).handled_at is None


# --- the nightly job ---------------------------------------------------------------------------------------

def test_the_nightly_job_reconciles_yesterday_once_and_tells_finance(paid_sandbox, make_user):
    finance, operator = make_user(admin_role="finance"), make_user(admin_role="operator")
    with transaction():  # something for it to find
        db.session.execute(sa.update(LedgerAccount).where(LedgerAccount.code.like("merchant_pending:%"))
                           .values(balance_fen=LedgerAccount.balance_fen - 1))
    day = day_of(paid_sandbox.payment_id)
    with travel(timedelta(days=1)):
        run_id = finance_tasks.reconcile_yesterday()
        assert finance_tasks.reconcile_yesterday() is None  # the second tick finds the day done
    run = db.session.get(ReconciliationRun, run_id)
    assert (run.day, run.job_day, run.trigger, run.checked["payments"]) == (day, day, "job", 1)
    assert [d.kind for d in run.differences] == [K.BALANCE_MISMATCH]
    told = db.session.scalars(sa.select(Message).where(Message.kind == "reconciliation")).all()
    assert [(m.recipient_id, m.link) for m in told] == [(finance.id, f"/admin/finance/reconciliation/{run_id}")]
    assert "1 处差异" in told[0].title and operator.id not in [m.recipient_id for m in told]


def test_a_quiet_night_tells_nobody(paid_sandbox, make_user):
    make_user(admin_role="finance")
    with travel(timedelta(days=1)):
        assert finance_tasks.reconcile_yesterday() is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(Message.kind == "reconciliation")) == 0
