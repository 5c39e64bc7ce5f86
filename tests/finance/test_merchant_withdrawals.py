"""A shop's withdrawals (app/finance/merchant_withdrawals.py): who may ask, the minimum and
the fee from the settings, the hold / release / pay postings, finance's guarded review,
audit rows and the shop's notifications; two requests racing for one balance take it once."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.core import settings as platform_settings
from app.core.db import transaction
from app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from app.core.models import AuditLog, StateChange
from app.extensions import db
from app.finance import ledger, merchant_funds, payouts
from app.finance import merchant_withdrawals as withdrawals
from app.finance.models import LedgerAccount, LedgerTransaction, MerchantWithdrawal
from app.finance.states import AccountKind
from app.merchants.models import MerchantMember
from app.notifications.models import Message
from tests.finance.funds import fund
from tests.race import at_once

ALIPAY = {"method": "alipay", "account_name": "鲜果铺有限公司", "account_no": "shop@example.com"}
BANK = {"method": "bank", "account_name": "鲜果铺有限公司", "account_no": "6222020200112233445", "bank_name": "招商银行上海分行"}


@pytest.fixture
def shop(make_merchant, make_user):
    """An open shop with ¥500 to withdraw and ¥80 pending, an owner and one staff member."""
    merchant = make_merchant()
    staff = make_user()
    db.session.add(MerchantMember(merchant_id=merchant.id, user_id=staff.id, role="staff"))
    with transaction():
        fund(merchant.id, 50_000, pending_fen=8_000)
    merchant.staff_user = staff
    return merchant


def owner_of(merchant):
    return db.session.scalar(sa.select(MerchantMember).where(MerchantMember.merchant_id == merchant.id,
                                                             MerchantMember.role == "owner")).user


@pytest.fixture
def finance(make_user):
    return make_user(admin_role="finance")


def ask(merchant, amount: str, **data):
    with transaction():
        return withdrawals.request(owner_of(merchant), merchant.id, {"amount": amount, **ALIPAY, **data})


def available(merchant_id: int) -> int:
    return ledger.shown_balance(AccountKind.MERCHANT_AVAILABLE, merchant_id)


def test_a_request_holds_the_amount_with_the_fee_from_the_settings_and_tells_the_staff(shop, make_user):
    with transaction():
        platform_settings.put("merchant_withdrawal_fee_bp", "60", make_user(admin_role="super"))  # 0.6%
    withdrawal = ask(shop, "123.45")
    assert (withdrawal.amount_fen, withdrawal.fee_fen, withdrawal.net_fen) == (12_345, 74, 12_271)  # 74.07 half up
    assert withdrawal.status == "requested" and withdrawal.account == {"name": "鲜果铺有限公司", "account": "shop@example.com"}
    assert available(shop.id) == 50_000 - 12_345
    assert ledger.shown_balance(AccountKind.PAYOUTS) == 12_345
    posted = db.session.scalar(sa.select(LedgerTransaction).where(
        LedgerTransaction.idempotency_key == f"merchant-withdrawal:{withdrawal.id}:requested"))
    assert posted.kind == "withdrawal_requested" and posted.source_id == withdrawal.id
    told = db.session.scalars(sa.select(Message.recipient_id).where(Message.title == "提现申请已提交")).all()
    assert sorted(told) == sorted([owner_of(shop).id, shop.staff_user.id])


def test_more_than_available_is_a_clear_form_error_and_writes_nothing(shop):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction))
    with pytest.raises(Conflict) as refused:
        ask(shop, "500.01")
    assert refused.value.code == "insufficient_balance"
    assert refused.value.fields == {"amount": "可提现余额不足（可提现 ¥500.00）"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MerchantWithdrawal)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction)) == before
    assert available(shop.id) == 50_000


def test_the_minimum_comes_from_the_settings(shop, make_user):
    with pytest.raises(ValidationError) as refused:
        ask(shop, "99.99")
    assert refused.value.code == "below_minimum" and "¥100.00" in refused.value.fields["amount"]
    with transaction():
        platform_settings.put("merchant_withdrawal_min_fen", "5000", make_user(admin_role="super"))
    assert ask(shop, "50").amount_fen == 5_000


@pytest.mark.parametrize(("data", "code", "field"), [
    ({"amount": "abc"}, "invalid_amount", "amount"),
    ({"amount": "0"}, "invalid_amount", "amount"),
    ({"amount": "100.001"}, "invalid_amount", "amount"),
    ({"method": "wechat"}, "invalid_method", "method"),
    ({"account_name": "张"}, "invalid_account", "account_name"),
    ({**BANK, "account_no": "62220202"}, "invalid_account", "account_no"),
    ({**BANK, "bank_name": ""}, "invalid_account", "bank_name"),
])
def test_bad_input_is_named_under_its_field(shop, data, code, field):
    with pytest.raises(ValidationError) as refused:
        ask(shop, data.pop("amount", "200"), **data)
    assert refused.value.code == code and field in refused.value.fields
    assert available(shop.id) == 50_000


def test_a_bank_account_keeps_its_bank(shop):
    withdrawal = ask(shop, "200", **BANK)
    assert withdrawal.account == {"name": "鲜果铺有限公司", "account": "6222020200112233445", "bank": "招商银行上海分行"}


def test_only_the_owner_of_an_open_shop_may_ask(shop, make_user, make_merchant):
    data = {"amount": "200", **ALIPAY}
    with pytest.raises(Forbidden) as refused:
        withdrawals.request(shop.staff_user, shop.id, data)
    assert refused.value.code == "not_allowed_to_withdraw"
    with pytest.raises(NotFound):  # another shop's owner, a buyer
        withdrawals.request(owner_of(make_merchant()), shop.id, data)
    with pytest.raises(NotFound):
        withdrawals.request(make_user(), shop.id, data)
    for status in ("suspended", "closed"):
        shop.status = status
        db.session.flush()
        with pytest.raises(Conflict) as refused:
            withdrawals.request(owner_of(shop), shop.id, data)
        assert refused.value.code == "cannot_withdraw"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MerchantWithdrawal)) == 0


def test_approve_then_pay_from_the_chosen_gateway_with_the_fee_to_the_platform(shop, finance, make_user):
    with transaction():
        platform_settings.put("merchant_withdrawal_fee_bp", "100", make_user(admin_role="super"))  # 1%
        fund(make_user().id + 10_000, 5_000, provider="wechat")  # a second, smaller gateway
    withdrawal = ask(shop, "300")
    fees_before = ledger.shown_balance(AccountKind.PLATFORM_FEES)
    with transaction():
        withdrawals.approve(finance, withdrawal.id)
    assert db.session.get(MerchantWithdrawal, withdrawal.id).status == "approved"
    assert [p for p, _b in payouts.paying_accounts()] == ["sandbox", "wechat"]
    with transaction():
        paid = withdrawals.mark_paid(finance, withdrawal.id, " TR-20261207-001 ")  # default: the first
    assert (paid.status, paid.transfer_ref, paid.paid_from) == ("paid", "TR-20261207-001", "sandbox")
    assert paid.paid_at is not None and paid.reviewed_by_id == finance.id
    assert ledger.shown_balance(AccountKind.PAYOUTS) == 0
    assert ledger.shown_balance(AccountKind.CLEARING, provider="sandbox") == 58_000 - 29_700
    assert ledger.shown_balance(AccountKind.PLATFORM_FEES) == fees_before + 300
    assert merchant_funds.balances(shop.id).withdrawn_fen == 30_000
    actions = db.session.scalars(sa.select(AuditLog.action).where(AuditLog.target_type == "MerchantWithdrawal",
                                                                  AuditLog.target_id == str(withdrawal.id))
                                 .order_by(AuditLog.id)).all()
    assert actions == ["merchant_withdrawal.approve", "merchant_withdrawal.paid"]
    moves = db.session.execute(sa.select(StateChange.from_state, StateChange.to_state).where(
        StateChange.entity == "merchant_withdrawal", StateChange.entity_id == withdrawal.id)
        .order_by(StateChange.id)).all()
    assert moves == [("requested", "approved"), ("approved", "paid")]
    told = db.session.scalars(sa.select(Message.title).where(Message.recipient_id == shop.staff_user.id)
                              .order_by(Message.id)).all()
    assert told == ["提现申请已提交", "提现申请已通过", "提现已到账"]
    for acct in db.session.scalars(sa.select(LedgerAccount)):
        assert ledger.recount(acct.id) == acct.balance_fen


def test_a_gateway_that_does_not_hold_the_transfer_is_refused_and_nothing_moves(shop, finance, make_user):
    with transaction():
        fund(make_user().id + 20_000, 1_000, provider="wechat")
    withdrawal = ask(shop, "300")
    with transaction():
        withdrawals.approve(finance, withdrawal.id)
    with pytest.raises(Conflict) as refused, transaction():
        withdrawals.mark_paid(finance, withdrawal.id, "TR-0001", "wechat")
    assert refused.value.code == "paying_account_short" and "paid_from" in refused.value.fields
    with pytest.raises(ValidationError) as refused, transaction():
        withdrawals.mark_paid(finance, withdrawal.id, "TR-0001", "nowhere")
    assert refused.value.code == "invalid_paying_account"
    with pytest.raises(ValidationError) as refused, transaction():
        withdrawals.mark_paid(finance, withdrawal.id, "TR1")
    assert refused.value.code == "transfer_ref_required"
    assert db.session.get(MerchantWithdrawal, withdrawal.id).status == "approved"
    assert ledger.shown_balance(AccountKind.PAYOUTS) == 30_000


def test_a_rejection_needs_a_reason_and_gives_the_amount_back(shop, finance):
    withdrawal = ask(shop, "300")
    with pytest.raises(ValidationError) as refused:
        withdrawals.reject(finance, withdrawal.id, "  ")
    assert refused.value.code == "reason_required"
    with transaction():
        withdrawals.approve(finance, withdrawal.id)
    with transaction():
        rejected = withdrawals.reject(finance, withdrawal.id, "户名与营业执照不符")
    assert (rejected.status, rejected.reject_reason) == ("rejected", "户名与营业执照不符")
    assert available(shop.id) == 50_000 and ledger.shown_balance(AccountKind.PAYOUTS) == 0
    audit_row = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "merchant_withdrawal.reject"))
    assert audit_row.changes == {"status": ["approved", "rejected"]} and audit_row.note == "户名与营业执照不符"
    assert db.session.scalar(sa.select(Message.body).where(Message.title == "提现申请被驳回").limit(1)).startswith(
        "提现 ¥300.00 被驳回：户名与营业执照不符")
    with pytest.raises(Conflict) as refused:  # final: no act moves it again
        withdrawals.approve(finance, withdrawal.id)
    assert refused.value.code == "stale_withdrawal"


def test_only_finance_reviews(shop, make_user):
    withdrawal = ask(shop, "300")
    for someone in (make_user(admin_role="operator"), make_user(), owner_of(shop)):
        for act, args in ((withdrawals.approve, ()), (withdrawals.reject, ("no",)),
                          (withdrawals.mark_paid, ("TR-0001",))):
            with pytest.raises(Forbidden):
                act(someone, withdrawal.id, *args)
    super_admin = make_user(admin_role="super")
    with transaction():
        assert withdrawals.approve(super_admin, withdrawal.id).status == "approved"


def test_paying_before_approval_or_twice_is_refused(shop, finance):
    withdrawal = ask(shop, "300")
    with pytest.raises(Conflict) as refused:
        withdrawals.mark_paid(finance, withdrawal.id, "TR-0001")
    assert refused.value.code == "stale_withdrawal"
    with transaction():
        withdrawals.approve(finance, withdrawal.id)
        withdrawals.mark_paid(finance, withdrawal.id, "TR-0001")
    with pytest.raises(Conflict):
        withdrawals.mark_paid(finance, withdrawal.id, "TR-0002")
    with pytest.raises(Conflict):
        withdrawals.reject(finance, withdrawal.id, "too late")
    assert ledger.shown_balance(AccountKind.PAYOUTS) == 0


def test_another_shops_withdrawal_is_not_found(shop, make_merchant):
    withdrawal = ask(shop, "300")
    assert withdrawals.get_for_shop(shop.id, withdrawal.id).id == withdrawal.id
    with pytest.raises(NotFound):
        withdrawals.get_for_shop(make_merchant().id, withdrawal.id)
    with pytest.raises(NotFound):
        withdrawals.get("99999999999999999999")


@pytest.mark.live_db
def test_two_requests_racing_for_one_balance_take_it_once(app, make_merchant):
    merchant = make_merchant()
    owner_id = db.session.scalar(sa.select(MerchantMember.user_id).where(MerchantMember.merchant_id == merchant.id))
    merchant_id = merchant.id
    with transaction():
        fund(merchant_id, 50_000)

    def withdraw(_i: int):
        owner = db.session.get(User, owner_id)
        with transaction():
            return withdrawals.request(owner, merchant_id, {"amount": "400", **ALIPAY}).id

    outcomes = at_once(2, withdraw, app=app)
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "int"], outcomes
    refused = next(o for o in outcomes if isinstance(o, Conflict))
    assert refused.code == "insufficient_balance" and "可提现 ¥100.00" in refused.message
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MerchantWithdrawal)) == 1
    assert available(merchant_id) == 10_000 and ledger.shown_balance(AccountKind.PAYOUTS) == 40_000
    for acct in db.session.scalars(sa.select(LedgerAccount)):
        assert ledger.recount(acct.id) == acct.balance_fen
