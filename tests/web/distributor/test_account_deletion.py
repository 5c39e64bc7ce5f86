"""A distributor deleting their account (注销账号): refused while a withdrawal is in
progress or commission is left to withdraw; otherwise their distributor record is
retired (frozen, name and phone erased) and they leave any shop they work in."""
from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import User
from app.core.db import transaction
from app.distribution import withdrawals
from app.distribution.models import Distributor
from app.extensions import db
from app.merchants.models import MerchantMember
from tests.factories import PASSWORD
from tests.web.helpers import text

CONFIRM = {"password": PASSWORD, "understood": "y"}


def fresh(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def test_refused_while_a_withdrawal_is_in_progress_or_commission_is_left(client, login, set_rules, make_distributor,
                                                                        balance):
    set_rules()
    distributor = make_distributor()
    balance(distributor, 10)  # ¥10.00 of settled commission
    user = db.session.get(Distributor, distributor.id).user
    login(user)
    assert "你还有 ¥10.00 可提现佣金，请先提现" in text(client.get("/me/security/delete"))
    with transaction():
        withdrawals.request(user, {"amount": "10", "method": "wechat", "account_name": "张三", "account_no": "zs_wx"})
    page = text(client.post("/me/security/delete", data=CONFIRM))
    assert "你有 1 笔提现正在处理，到账后才能注销" in page
    assert not fresh(user.id).is_deleted


def test_staff_leave_their_shops_and_a_distributor_is_retired(client, make_user, make_merchant, login, set_rules,
                                                             make_distributor):
    set_rules()
    distributor = make_distributor(phone="13766660005")
    user = db.session.get(Distributor, distributor.id).user
    shop = make_merchant()
    db.session.add(MerchantMember(merchant_id=shop.id, user_id=user.id, role="staff"))
    db.session.commit()
    login(user)
    assert client.post("/me/security/delete", data=CONFIRM).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(MerchantMember.id)).where(MerchantMember.user_id == user.id)) == 0
    retired = db.session.get(Distributor, distributor.id)
    assert retired.status == "frozen" and retired.phone == "" and retired.real_name == ""
