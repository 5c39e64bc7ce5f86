"""Mail through an SMTP server: plain, STARTTLS (`SMTP_USE_TLS`) or implicit
TLS (`SMTP_USE_SSL`), with login when `SMTP_USERNAME` is set. One connection
per message; the Message-ID header is the provider id."""
from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import make_msgid

from app.notifications.providers.base import DeliveryError

log = logging.getLogger(__name__)


class SmtpMail:
    name = "smtp"

    def __init__(self, *, host: str, port: int, use_tls: bool = False, use_ssl: bool = False,
                 username: str | None = None, password: str | None = None, timeout: float = 10,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        if use_tls and use_ssl:
            raise ValueError("SMTP_USE_TLS (STARTTLS) and SMTP_USE_SSL (implicit TLS) exclude each other")
        self.host = host
        self.port = port
        self.use_tls = use_tls
        self.use_ssl = use_ssl
        self.username = username
        self.password = password
        self.timeout = timeout
        self.ssl_context = ssl_context

    @classmethod
    def from_config(cls, config: Mapping) -> SmtpMail:
        return cls(
            host=config["SMTP_HOST"],
            port=int(config["SMTP_PORT"]),
            use_tls=bool(config.get("SMTP_USE_TLS")),
            use_ssl=bool(config.get("SMTP_USE_SSL")),
            username=config.get("SMTP_USERNAME") or None,
            password=config.get("SMTP_PASSWORD") or None,
            timeout=config.get("SMTP_TIMEOUT_SECONDS", 10),
        )

    def _connect(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl.create_default_context()
        if self.use_ssl:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.use_tls:
            try:
                server.starttls(context=context)
            except BaseException:
                server.close()
                raise
        return server

    def send(self, message: EmailMessage) -> str:
        if not message["Message-ID"]:
            message["Message-ID"] = make_msgid()
        try:
            with self._connect() as server:
                if self.username:
                    server.login(self.username, self.password or "")
                refused = server.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {type(exc).__name__}: {exc}") from exc
        if refused:
            # Part of the recipients were accepted, so the mail did go out: raising
            # would make the job send it again to those. Log the rest instead.
            log.warning("SMTP refused some recipients of %s: %s", message["Message-ID"], sorted(refused))
        return str(message["Message-ID"])
