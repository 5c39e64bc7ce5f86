"""`app.accounts.identities`: finding, creating and binding users through
third-party identities, without any provider in the way."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts import bindings, identities
from app.accounts.models import Identity, User
from app.accounts.states import UserStatus
from app.core import settings as platform_settings
from app.core.db import transaction
from app.core.errors import Conflict, Forbidden
from app.extensions import db


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def sign_in(*args, **kwargs):
    kwargs.setdefault("agreed_terms", True)
    with transaction():
        return identities.sign_in_with_identity(*args, **kwargs)


def test_first_sign_in_creates_and_the_next_finds():
    user, is_new = sign_in("alipay", "2088", "小李")
    assert is_new and user.nickname == "小李"
    again, is_new = sign_in("alipay", "2088", "小李")
    assert (again.id, is_new) == (user.id, False)
    assert count(User) == 1 and count(Identity) == 1


def test_long_display_names_are_cut_to_fit():
    user, _ = sign_in("wechat_web", "o-long", "名" * 100)
    assert len(user.nickname) == 20
    assert len(user.identities[0].display_name) == 80


def test_unionid_is_stored_and_links_the_other_app():
    mp_user, _ = sign_in("wechat_mp", "o-mp", None, unionid="u-1")
    web_user, is_new = sign_in("wechat_web", "o-web", "网页", unionid="u-1")
    assert (web_user.id, is_new) == (mp_user.id, False)
    assert {(i.provider, i.subject) for i in web_user.identities} == {
        ("wechat_mp", "o-mp"), ("wechat_web", "o-web"), ("wechat", "u-1")}


def test_unionid_learned_later_is_added():
    user, _ = sign_in("wechat_mp", "o-mp-2")
    sign_in("wechat_mp", "o-mp-2", unionid="u-2")
    db.session.expire_all()
    assert {i.provider for i in db.session.get(User, user.id).identities} == {"wechat_mp", "wechat"}


def test_unionid_is_only_for_wechat():
    with pytest.raises(ValueError):
        identities.sign_in_with_identity("alipay", "2088", unionid="u")
    with pytest.raises(ValueError):
        identities.sign_in_with_identity("wechat", "u-3")


def test_banned_user_is_refused_and_nothing_is_written():
    user, _ = sign_in("wechat_mp", "o-mp-4", unionid="u-4")
    user.status = UserStatus.BANNED
    db.session.commit()
    with pytest.raises(Forbidden) as caught:
        sign_in("wechat_web", "o-web-4", "x", unionid="u-4")
    assert caught.value.code == "account_banned"
    assert count(Identity) == 2


def test_racing_first_sign_ins_end_on_one_user(monkeypatch):
    winner, _ = sign_in("wechat_web", "o-race", unionid="u-race")
    real = identities.find_identity
    calls = {"n": 0}

    def blind_at_first(provider, subject):  # the loser looked before the winner committed
        calls["n"] += 1
        return None if calls["n"] <= 2 else real(provider, subject)

    monkeypatch.setattr(identities, "find_identity", blind_at_first)
    loser, is_new = sign_in("wechat_web", "o-race", unionid="u-race")
    assert (loser.id, is_new) == (winner.id, False)
    assert count(User) == 1


def test_bind_links_and_is_idempotent(make_user):
    user = make_user()
    with transaction():
        identities.bind_identity(user, "wechat_web", "o-b", "阿B", unionid="u-b")
        identities.bind_identity(user, "wechat_web", "o-b", "阿B改名", unionid="u-b")
    assert {(i.provider, i.display_name) for i in user.identities} == {("wechat_web", "阿B改名"), ("wechat", "阿B改名")}
    assert bindings.sign_in_methods(user)["wechat"] == "阿B改名"


def test_bind_refuses_an_identity_owned_by_someone_else(make_user):
    owner, _ = sign_in("wechat_mp", "o-mp-5", unionid="u-5")
    other = make_user()
    with pytest.raises(Conflict) as caught, transaction():
        identities.bind_identity(other, "wechat_web", "o-web-5", unionid="u-5")  # same person via unionid
    assert caught.value.code == "identity_taken" and caught.value.message == "该微信已绑定其他账号"
    with pytest.raises(Conflict), transaction():
        identities.bind_identity(other, "wechat_mp", "o-mp-5")
    assert count(Identity) == 2 and {i.user_id for i in db.session.scalars(sa.select(Identity))} == {owner.id}


def test_bind_refuses_a_second_account_of_the_same_provider(make_user):
    user = make_user()
    with transaction():
        identities.bind_identity(user, "alipay", "2088-1")
    with pytest.raises(Conflict) as caught, transaction():
        identities.bind_identity(user, "alipay", "2088-2")
    assert caught.value.code == "already_bound"


def test_unbind_is_refused_for_the_last_method_and_allowed_otherwise(make_user):
    user, _ = sign_in("alipay", "2088-3")
    with pytest.raises(Conflict) as caught, transaction():
        bindings.unbind(user, "alipay")
    assert caught.value.code == "last_sign_in_method"
    phone_user = make_user()
    with transaction():
        identities.bind_identity(phone_user, "alipay", "2088-4")
    with transaction():
        bindings.unbind(phone_user, "alipay")
    assert identities.find_identity("alipay", "2088-4") is None


def test_needs_phone_rule(make_user):
    third_party, _ = sign_in("wechat_web", "o-np")
    phone_user = make_user()
    email_user = make_user(email="a@example.com")
    with transaction():
        identities.bind_identity(phone_user, "alipay", "2088-np1")
        identities.bind_identity(email_user, "alipay", "2088-np2")
    assert not identities.needs_phone(third_party)  # the setting is off by default
    platform_settings.put("require_phone_for_third_party", True, None)
    assert identities.needs_phone(third_party)
    assert not identities.needs_phone(phone_user)
    assert not identities.needs_phone(email_user)
    assert not identities.needs_phone(make_user(email="b@example.com", password=None))  # no identities at all
