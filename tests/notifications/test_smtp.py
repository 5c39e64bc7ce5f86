"""The SMTP adapter against a real SMTP server (aiosmtpd) on 127.0.0.1."""
import ssl
from email.message import EmailMessage

import pytest

from app.notifications import providers
from app.notifications.providers.base import DeliveryError
from app.notifications.providers.smtp import SmtpMail
from tests.notifications.conftest import free_port


def message(to="buyer@example.com") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "商城 <no-reply@shop.local>"
    mail["To"] = to
    mail["Subject"] = "完成注册"
    mail["Message-ID"] = "<test-1@shop.local>"
    mail.set_content("点击链接完成注册")
    mail.add_alternative("<p>点击链接完成注册</p>", subtype="html")
    return mail


def test_plain_smtp_delivers_and_returns_the_message_id(app, smtp_peer, smtp_config):
    peer = smtp_peer()
    smtp_config(peer)
    mailer = providers.mail_provider()
    assert isinstance(mailer, SmtpMail)

    assert mailer.send(message()) == "<test-1@shop.local>"

    [received] = peer.mailbox.messages
    [envelope] = peer.mailbox.envelopes
    assert envelope.mail_from == "no-reply@shop.local"
    assert envelope.rcpt_tos == ["buyer@example.com"]
    assert received["Subject"] == "完成注册"
    assert received.get_body(("plain",)).get_content().strip() == "点击链接完成注册"
    assert "<p>" in received.get_body(("html",)).get_content()
    assert peer.mailbox.logins == []


def test_a_message_without_message_id_gets_one(app, smtp_peer, smtp_config):
    peer = smtp_peer()
    smtp_config(peer)
    mail = message()
    del mail["Message-ID"]
    message_id = providers.mail_provider().send(mail)
    assert message_id.startswith("<") and message_id.endswith(">")
    assert peer.mailbox.messages[0]["Message-ID"] == message_id


def test_login_with_configured_credentials(app, smtp_peer, smtp_config):
    peer = smtp_peer(auth=True)
    smtp_config(peer)
    providers.mail_provider().send(message())
    assert peer.mailbox.logins == ["mailer"]
    assert len(peer.mailbox.messages) == 1


def test_a_wrong_password_is_a_delivery_error(app, smtp_peer, smtp_config, monkeypatch):
    peer = smtp_peer(auth=True)
    smtp_config(peer)
    monkeypatch.setitem(app.config, "SMTP_PASSWORD", "not-the-password")
    with pytest.raises(DeliveryError, match="SMTPAuthenticationError"):
        providers.mail_provider().send(message())
    assert peer.mailbox.messages == []


def test_a_server_that_is_down_is_a_delivery_error(app, smtp_config):
    smtp_config(port=free_port())  # nothing listens there
    with pytest.raises(DeliveryError, match="ConnectionRefusedError"):
        providers.mail_provider().send(message())


def test_starttls_then_login(app, smtp_peer, self_signed_cert):
    peer = smtp_peer(auth=True, tls="starttls", cert=self_signed_cert)
    mailer = SmtpMail(host=peer.host, port=peer.port, use_tls=True, username=peer.username,
                      password=peer.password, timeout=5,
                      ssl_context=ssl.create_default_context(cafile=peer.cafile))
    mailer.send(message())
    assert peer.mailbox.logins == ["mailer"]
    assert len(peer.mailbox.messages) == 1


def test_a_server_requiring_starttls_refuses_a_plain_client(app, smtp_peer, self_signed_cert):
    peer = smtp_peer(tls="starttls", cert=self_signed_cert)
    mailer = SmtpMail(host=peer.host, port=peer.port, timeout=5)
    with pytest.raises(DeliveryError):
        mailer.send(message())
    assert peer.mailbox.messages == []


def test_an_untrusted_certificate_is_refused(app, smtp_peer, self_signed_cert):
    peer = smtp_peer(tls="starttls", cert=self_signed_cert)
    mailer = SmtpMail(host=peer.host, port=peer.port, use_tls=True, timeout=5)  # system trust store only
    with pytest.raises(DeliveryError, match="SSLCertVerificationError"):
        mailer.send(message())
    assert peer.mailbox.messages == []


def test_implicit_tls_with_login(app, smtp_peer, self_signed_cert):
    peer = smtp_peer(auth=True, tls="implicit", cert=self_signed_cert)
    mailer = SmtpMail(host=peer.host, port=peer.port, use_ssl=True, username=peer.username,
                      password=peer.password, timeout=5,
                      ssl_context=ssl.create_default_context(cafile=peer.cafile))
    mailer.send(message())
    assert peer.mailbox.logins == ["mailer"]
    assert len(peer.mailbox.messages) == 1


def test_tls_and_ssl_together_is_a_configuration_error(app):
    with pytest.raises(ValueError):
        SmtpMail.from_config({**app.config, "SMTP_USE_TLS": True, "SMTP_USE_SSL": True})
