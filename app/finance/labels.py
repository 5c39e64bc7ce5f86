"""What finance's statuses and money events are called, on every surface: a shop's
withdrawal statuses (admin words by default, the shop's own under "merchant"), its
methods, the shop's three accounts and the lines of its statement (资金明细)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.core.labels import StatusLabels, Tone
from app.finance.states import AccountKind, TransactionKind
from app.finance.withdrawal_states import MerchantWithdrawalMethod, MerchantWithdrawalStatus

MERCHANT_WITHDRAWAL_LABELS = StatusLabels("merchant_withdrawal", {
    MerchantWithdrawalStatus.REQUESTED: {"default": _l("待审核"), "merchant": _l("审核中")},
    MerchantWithdrawalStatus.APPROVED: _l("待打款"),
    MerchantWithdrawalStatus.PAID: {"default": _l("已打款"), "merchant": _l("已到账")},
    MerchantWithdrawalStatus.REJECTED: _l("已驳回"),
}, {
    MerchantWithdrawalStatus.REQUESTED: Tone.REVIEW,
    MerchantWithdrawalStatus.APPROVED: Tone.WARNING,
    MerchantWithdrawalStatus.PAID: Tone.GOOD,
    MerchantWithdrawalStatus.REJECTED: Tone.BAD,
})

METHOD_LABELS = {MerchantWithdrawalMethod.BANK: _l("银行卡（对公或法人账户）"),
                 MerchantWithdrawalMethod.ALIPAY: _l("支付宝")}
METHOD_SHORT = {MerchantWithdrawalMethod.BANK: _l("银行卡"), MerchantWithdrawalMethod.ALIPAY: _l("支付宝")}

# The shop's accounts as its statement names them.
ACCOUNT_LABELS = {AccountKind.MERCHANT_PENDING: _l("待结算"), AccountKind.MERCHANT_AVAILABLE: _l("可提现"),
                  AccountKind.MERCHANT_DEBTS: _l("欠款")}

# A statement line in words: by (transaction kind, the shop's account it touches), else by kind.
LINE_LABELS = {
    (TransactionKind.MERCHANT_SETTLEMENT, AccountKind.MERCHANT_PENDING): _l("订单结算转出"),
    (TransactionKind.MERCHANT_SETTLEMENT, AccountKind.MERCHANT_AVAILABLE): _l("结算转入可提现"),
    (TransactionKind.MERCHANT_SETTLEMENT, AccountKind.MERCHANT_DEBTS): _l("结算抵扣欠款"),
}
KIND_LABELS = {
    TransactionKind.COLLECTION: _l("订单收款"),
    TransactionKind.COMMISSION_MADE: _l("分销佣金"),
    TransactionKind.COMMISSION_VOIDED: _l("佣金退回"),
    TransactionKind.COMMISSION_CLAWBACK: _l("佣金退回"),
    TransactionKind.REFUND_STARTED: _l("退款"),
    TransactionKind.MERCHANT_SETTLEMENT: _l("订单结算"),
    TransactionKind.WITHDRAWAL_REQUESTED: _l("提现申请"),
    TransactionKind.WITHDRAWAL_RELEASED: _l("提现驳回退回"),
    TransactionKind.WITHDRAWAL_PAID: _l("提现打款"),
    TransactionKind.ADJUSTMENT: _l("平台调整"),
}


def line_label(kind: str, account_kind: str) -> str:
    words = LINE_LABELS.get((kind, account_kind)) or KIND_LABELS.get(kind)
    return str(words) if words is not None else kind


# The gateways whose clearing accounts finance pays withdrawals from.
GATEWAY_LABELS = {"wechat": _l("微信支付"), "wechatpay": _l("微信支付"), "alipay": _l("支付宝"), "sandbox": _l("沙箱")}


def gateway_label(provider: str | None) -> str:
    return str(GATEWAY_LABELS.get(provider or "", provider or ""))
