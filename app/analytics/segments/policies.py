"""Who may look at and message which customer segments.

- The platform's segments: admins with `stats.view` look (operators, finance, super
  admins); admins with `segments.message` (operators, super admins) send messages, and
  only they may add an SMS.
- A shop's segments: its members (owner and staff, as for everything but staff, settings
  and API keys, see app/merchants/policies.py) look and send in-site messages, never SMS,
  and only while the shop is open: a suspended or closed shop markets to nobody. The shop
  always comes from the member's own membership, so nobody reaches another shop's segments.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from app.accounts import policies as account_policies
from app.analytics.errors import AnalyticsError
from app.core.errors import Conflict, Forbidden


@dataclass(frozen=True)
class Sender:
    """Who a message to a segment comes from: a person, for the platform (merchant_id None)
    or for a shop (named in the message's title)."""

    user_id: int
    merchant_id: int | None
    shop_name: str | None = None
    may_sms: bool = False


def may_view_platform(user) -> bool:
    return account_policies.can(user, "stats.view")


def may_message_platform(user) -> bool:
    return account_policies.can(user, "segments.message")


def platform_sender(user) -> Sender:
    if not may_message_platform(user):
        raise Forbidden(_("你没有给客户分群发消息的权限"))
    return Sender(user_id=user.id, merchant_id=None, may_sms=True)


def may_message_shop(merchant) -> bool:
    return merchant is not None and merchant.is_active


def shop_sender(user_id: int, merchant) -> Sender:
    if not may_message_shop(merchant):
        raise Conflict(_("店铺暂停营业或已关闭，不能发送营销消息"), code=AnalyticsError.SHOP_NOT_OPEN)
    return Sender(user_id=user_id, merchant_id=merchant.id, shop_name=merchant.name)
