"""Delivery adapters. SMS: `console` (a JSON line per message in the outbox) and
`aliyun`. Mail: `console` (.eml files in the outbox) and `smtp`."""
from __future__ import annotations

from flask import current_app

from app.notifications.providers.base import MailProvider, SmsProvider


def sms_provider() -> SmsProvider:
    name = current_app.config["SMS_PROVIDER"]
    if name == "console":
        from app.notifications.providers.console import ConsoleSms

        return ConsoleSms(current_app.config["OUTBOX_DIR"])
    if name == "aliyun":
        from app.notifications.providers.aliyun_sms import AliyunSms

        return AliyunSms.from_config(current_app.config)
    raise RuntimeError(f"unknown SMS_PROVIDER {name!r}")


def mail_provider() -> MailProvider:
    name = current_app.config["MAIL_PROVIDER"]
    if name == "console":
        from app.notifications.providers.console import ConsoleMail

        return ConsoleMail(current_app.config["OUTBOX_DIR"])
    if name == "smtp":
        from app.notifications.providers.smtp import SmtpMail

        return SmtpMail.from_config(current_app.config)
    raise RuntimeError(f"unknown MAIL_PROVIDER {name!r}")
