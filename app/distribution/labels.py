"""What distribution statuses are called and their badge tones, for every surface.

The admin console and the distributor's own centre word some statuses their own way
(a pending application is 待审核 to the reviewer, 审核中 to the applicant), so those
labels are dicts by audience: "default" is the admin's word, "distributor" the
centre's. Withdrawal methods and levels are named here too, once."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.core.labels import StatusLabels, Tone
from app.distribution.states import CommissionStatus, DistributorStatus, WithdrawalMethod, WithdrawalStatus

DISTRIBUTOR_LABELS = StatusLabels("distributor", {
    DistributorStatus.PENDING: {"default": _l("待审核"), "distributor": _l("审核中")},
    DistributorStatus.ACTIVE: _l("正常"),
    DistributorStatus.FROZEN: _l("已冻结"),
    DistributorStatus.REJECTED: {"default": _l("已驳回"), "distributor": _l("未通过")},
}, {
    DistributorStatus.PENDING: Tone.PENDING,
    DistributorStatus.ACTIVE: Tone.GOOD,
    DistributorStatus.FROZEN: Tone.WARNING,
    DistributorStatus.REJECTED: Tone.BAD,
})

COMMISSION_LABELS = StatusLabels("commission", {
    CommissionStatus.PENDING: _l("待结算"),
    CommissionStatus.SETTLED: _l("已结算"),
    CommissionStatus.VOID: _l("已失效"),
}, {
    CommissionStatus.PENDING: Tone.PENDING,
    CommissionStatus.SETTLED: Tone.GOOD,
    CommissionStatus.VOID: Tone.BAD,
})

WITHDRAWAL_LABELS = StatusLabels("withdrawal", {
    WithdrawalStatus.REQUESTED: {"default": _l("待审核"), "distributor": _l("审核中")},
    WithdrawalStatus.APPROVED: _l("待打款"),
    WithdrawalStatus.PAID: {"default": _l("已打款"), "distributor": _l("已到账")},
    WithdrawalStatus.REJECTED: _l("已驳回"),
}, {
    WithdrawalStatus.REQUESTED: Tone.REVIEW,
    WithdrawalStatus.APPROVED: Tone.WARNING,
    WithdrawalStatus.PAID: Tone.GOOD,
    WithdrawalStatus.REJECTED: Tone.BAD,
})

METHOD_LABELS = {WithdrawalMethod.WECHAT: _l("微信"), WithdrawalMethod.ALIPAY: _l("支付宝"),
                 WithdrawalMethod.BANK: _l("银行卡")}
LEVEL_LABELS = {1: _l("一级"), 2: _l("二级"), 3: _l("三级")}


# A distributor's timeline (admin detail): what each move is called, by (from, to),
# falling back to the state it led to; and the timeline dot's look.
EVENT_TITLES = {
    (DistributorStatus.FROZEN, DistributorStatus.ACTIVE): _l("解除冻结"),
    (DistributorStatus.PENDING, DistributorStatus.ACTIVE): _l("审核通过"),
    (DistributorStatus.REJECTED, DistributorStatus.PENDING): _l("重新申请"),
}
ENTERED_TITLES = {DistributorStatus.PENDING: _l("已提交申请"), DistributorStatus.ACTIVE: _l("开通分销"),
                  DistributorStatus.REJECTED: _l("申请被驳回"), DistributorStatus.FROZEN: _l("冻结")}
EVENT_LOOKS = {DistributorStatus.ACTIVE: "approved", DistributorStatus.REJECTED: "rejected",
               DistributorStatus.FROZEN: "rejected"}


def event_title(from_status: str | None, to_status: str) -> str:
    title = EVENT_TITLES.get((from_status, to_status)) or ENTERED_TITLES.get(to_status)
    return str(title) if title is not None else to_status


def event_look(to_status: str) -> str:
    """The timeline-item modifier: approved, rejected or submitted."""
    return EVENT_LOOKS.get(to_status, "submitted")
