"""The development adapters write what they would send into the outbox."""
from datetime import datetime
from email.message import EmailMessage

from app.notifications import providers
from app.notifications.providers.console import ConsoleMail, ConsoleSms


def test_console_sms_appends_one_json_line_per_message(app, outbox):
    sms = providers.sms_provider()
    assert isinstance(sms, ConsoleSms)

    first = sms.send("+8613811112222", "您的验证码是123456", "verification_code", {"code": "123456", "minutes": 5})
    second = sms.send("+8613811113333", "发货了", "notice", {"text": "发货了"})

    lines = (outbox.path / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    records = outbox.sms()
    assert set(records[0]) == {"to", "text", "template", "params", "at"}
    assert records[0]["to"] == "+8613811112222"
    assert records[0]["text"] == "您的验证码是123456"  # kept readable, not \u-escaped
    assert "您的验证码" in lines[0]
    assert records[0]["template"] == "verification_code"
    assert records[0]["params"] == {"code": "123456", "minutes": 5}
    assert datetime.fromisoformat(records[0]["at"]).tzinfo is not None
    assert records[1]["to"] == "+8613811113333"
    assert first != second and first.startswith("console-")


def test_console_mail_writes_an_eml_file(app, outbox):
    mail = providers.mail_provider()
    assert isinstance(mail, ConsoleMail)
    message = EmailMessage()
    message["From"] = "商城 <no-reply@shop.local>"
    message["To"] = "buyer@example.com"
    message["Subject"] = "重置密码"
    message.set_content("打开 https://shop.local/reset/abc 重置密码")

    message_id = mail.send(message)

    files = list((outbox.path / "mail").glob("*.eml"))
    assert [f.stem for f in files] == [message_id]
    [stored] = outbox.mails()
    assert stored["To"] == "buyer@example.com"
    assert stored["Subject"] == "重置密码"
    assert outbox.last_link("buyer@example.com") == "https://shop.local/reset/abc"
