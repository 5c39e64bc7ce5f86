"""Delivery adapters. SMS: `console` (a JSON line per message in the outbox) and
`aliyun`. Mail: `console` (.eml files in the outbox) and `smtp`. The config names
one of each (`SMS_PROVIDER`, `MAIL_PROVIDER`); every adapter is light (stdlib and
requests), so all are imported and the config only picks."""
from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import current_app

from app.notifications.providers.aliyun_sms import AliyunSms
from app.notifications.providers.base import MailProvider, SmsProvider
from app.notifications.providers.console import ConsoleMail, ConsoleSms
from app.notifications.providers.smtp import SmtpMail

# name -> how to build the adapter from the app config
SMS_PROVIDERS: dict[str, Callable[[Mapping], SmsProvider]] = {
    "console": lambda config: ConsoleSms(config["OUTBOX_DIR"]),
    "aliyun": AliyunSms.from_config,
}
MAIL_PROVIDERS: dict[str, Callable[[Mapping], MailProvider]] = {
    "console": lambda config: ConsoleMail(config["OUTBOX_DIR"]),
    "smtp": SmtpMail.from_config,
}


def sms_provider() -> SmsProvider:
    name = current_app.config["SMS_PROVIDER"]
    if name not in SMS_PROVIDERS:
        raise RuntimeError(f"unknown SMS_PROVIDER {name!r}")
    return SMS_PROVIDERS[name](current_app.config)


def mail_provider() -> MailProvider:
    name = current_app.config["MAIL_PROVIDER"]
    if name not in MAIL_PROVIDERS:
        raise RuntimeError(f"unknown MAIL_PROVIDER {name!r}")
    return MAIL_PROVIDERS[name](current_app.config)
