"""Reconciliation's words (docs/finance.md, Reconciliation): the kinds of difference a run
finds, what each means and what finance does about it, how a run was started, and the error
codes its services raise. Values are stored and published: they never change."""
from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class DifferenceKind(StrEnum):
    # Our own books against our own records (every run).
    COLLECTION_MISMATCH = "collection_mismatch"  # a paid payment's collections ≠ what it took
    REFUND_START_MISSING = "refund_start_missing"  # a refund without `refund:<id>:started` (or another amount)
    REFUND_DONE_MISSING = "refund_done_missing"  # a refund that succeeded without `refund:<id>:done`
    COMMISSION_MISSING = "commission_missing"  # a commission without `commission:<id>:made`
    ORDER_NOT_SETTLED = "order_not_settled"  # a completed order never settled
    ORDER_PENDING_LEFT = "order_pending_left"  # a completed order still holds money in merchant_pending
    WITHDRAWAL_PAID_MISSING = "withdrawal_paid_missing"  # a paid withdrawal without `<prefix>:<id>:paid`
    UNBALANCED_TRANSACTION = "unbalanced_transaction"  # a transaction whose lines do not sum to zero
    BALANCE_MISMATCH = "balance_mismatch"  # an account's cached balance ≠ the sum of its entries
    # A gateway's bill against our payments and refunds.
    BILL_PAYMENT_UNKNOWN = "bill_payment_unknown"  # the gateway took money we did not record
    BILL_AMOUNT_MISMATCH = "bill_amount_mismatch"  # same trade, another amount
    BILL_DUPLICATE_UNRECORDED = "bill_duplicate_unrecorded"  # a second collection with no refund of ours
    PAYMENT_MISSING_FROM_BILL = "payment_missing_from_bill"  # we recorded a payment the bill does not have
    BILL_REFUND_UNKNOWN = "bill_refund_unknown"  # the gateway refunded something we never asked for
    BILL_REFUND_MISMATCH = "bill_refund_mismatch"  # our refund: not succeeded, or another amount


INTERNAL_KINDS = frozenset({
    DifferenceKind.COLLECTION_MISMATCH, DifferenceKind.REFUND_START_MISSING, DifferenceKind.REFUND_DONE_MISSING,
    DifferenceKind.COMMISSION_MISSING, DifferenceKind.ORDER_NOT_SETTLED, DifferenceKind.ORDER_PENDING_LEFT,
    DifferenceKind.WITHDRAWAL_PAID_MISSING, DifferenceKind.UNBALANCED_TRANSACTION, DifferenceKind.BALANCE_MISMATCH,
})

DIFFERENCE_LABELS = {
    DifferenceKind.COLLECTION_MISMATCH: _l("收款记账不符"),
    DifferenceKind.REFUND_START_MISSING: _l("退款未记账"),
    DifferenceKind.REFUND_DONE_MISSING: _l("退款完成未记账"),
    DifferenceKind.COMMISSION_MISSING: _l("佣金未记账"),
    DifferenceKind.ORDER_NOT_SETTLED: _l("订单未结算"),
    DifferenceKind.ORDER_PENDING_LEFT: _l("订单待结算余额未清"),
    DifferenceKind.WITHDRAWAL_PAID_MISSING: _l("提现打款未记账"),
    DifferenceKind.UNBALANCED_TRANSACTION: _l("分录借贷不平"),
    DifferenceKind.BALANCE_MISMATCH: _l("账户余额与明细不符"),
    DifferenceKind.BILL_PAYMENT_UNKNOWN: _l("渠道有收款、我方未入账"),
    DifferenceKind.BILL_AMOUNT_MISMATCH: _l("收款金额不符"),
    DifferenceKind.BILL_DUPLICATE_UNRECORDED: _l("重复收款未退"),
    DifferenceKind.PAYMENT_MISSING_FROM_BILL: _l("我方已收款、账单中没有"),
    DifferenceKind.BILL_REFUND_UNKNOWN: _l("渠道有退款、我方无记录"),
    DifferenceKind.BILL_REFUND_MISMATCH: _l("退款状态或金额不符"),
}

# What finance does about each kind: shown beside every difference (docs/finance.md says why).
DIFFERENCE_ADVICE = {
    DifferenceKind.COLLECTION_MISMATCH: _l("该支付单的收款分录金额与实收不符：补记账务（联系技术），补记后重新对账"),
    DifferenceKind.REFUND_START_MISSING: _l("退款已发起但账上未从店铺转出：补记账务（联系技术）"),
    DifferenceKind.REFUND_DONE_MISSING: _l("退款已成功但账上仍挂在“退款中”：补记账务（联系技术）"),
    DifferenceKind.COMMISSION_MISSING: _l("佣金已产生但未记入分销商待结算：补记账务（联系技术）"),
    DifferenceKind.ORDER_NOT_SETTLED: _l("订单已完成但货款未结算给店铺：联系技术排查结算任务，结算后重新对账"),
    DifferenceKind.ORDER_PENDING_LEFT: _l("订单已结算但店铺待结算中仍有余额：联系技术核对该订单的分录并补记"),
    DifferenceKind.WITHDRAWAL_PAID_MISSING: _l("提现已标记打款但账上未记出款：核对打款流水后补记账务（联系技术）"),
    DifferenceKind.UNBALANCED_TRANSACTION: _l("这笔分录借贷不平，属于系统错误：立即联系技术，勿手工调账"),
    DifferenceKind.BALANCE_MISMATCH: _l("账户缓存余额与明细合计不一致：联系技术按明细重算余额，期间暂停该账户的提现"),
    DifferenceKind.BILL_PAYMENT_UNKNOWN: _l("该笔款项我方未入账：在支付单页“向支付平台查询”或联系技术排查回调"),
    DifferenceKind.BILL_AMOUNT_MISMATCH: _l("渠道金额与我方不符：在支付平台商户后台核对该笔交易，联系技术"),
    DifferenceKind.BILL_DUPLICATE_UNRECORDED: _l("买家重复付款而我方未退回：在支付单页核对后联系技术发起退款"),
    DifferenceKind.PAYMENT_MISSING_FROM_BILL: _l("我方记为已付款但账单中没有：先核对前后一天的账单（跨零点），仍没有则联系支付平台"),
    DifferenceKind.BILL_REFUND_UNKNOWN: _l("渠道退款我方无记录：在支付平台商户后台查明是谁发起的退款"),
    DifferenceKind.BILL_REFUND_MISMATCH: _l("渠道已退款而我方状态或金额不同：在支付单页查看该退款，联系技术同步状态"),
}


class RunTrigger(StrEnum):
    JOB = "job"  # the nightly job (yesterday, internal checks)
    CLI = "cli"  # `flask finance reconcile`
    ADMIN = "admin"  # finance on /admin/finance/reconciliation


TRIGGER_LABELS = {RunTrigger.JOB: _l("每日自动"), RunTrigger.CLI: _l("命令行"), RunTrigger.ADMIN: _l("手动")}


class ReconciliationError(StrEnum):
    """Error codes (`DomainError.code`) of bills and reconciliation."""

    BILL_INVALID = "bill_invalid"  # not the gateway's bill: header, encoding, a bad row
    BILL_TOO_LARGE = "bill_too_large"  # beyond MAX_BILL_BYTES or MAX_BILL_ROWS
    BAD_DAY = "bad_reconciliation_day"  # not a day, or a day still to come
    DIFFERENCE_NOT_FOUND = "difference_not_found"
    ALREADY_HANDLED = "difference_already_handled"
    NOTE_REQUIRED = "difference_note_required"
    DAY_RECONCILED = "day_already_reconciled"  # the nightly job found the day done already
