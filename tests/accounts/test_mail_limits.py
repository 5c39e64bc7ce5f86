"""Mail that anyone can ask for (registration, reset and binding links) is limited like
SMS codes: one a minute per address, MAIL_DAILY_PER_ADDRESS a day per address and
MAIL_HOURLY_PER_IP an hour per client, each a 429 with Retry-After that sends nothing.
Before, /api/v1/auth/email/start took 120 requests in 0.4 s and queued 120 mails."""
import sqlalchemy as sa

from app.accounts import codes
from app.core import ratelimit
from app.extensions import db
from app.notifications.models import OutboundMessage

START = "/api/v1/auth/email/start"


def mails_to(address: str | None = None) -> int:
    db.session.expire_all()
    where = [OutboundMessage.channel == "email"]
    if address:
        where.append(OutboundMessage.recipient == address)
    return db.session.scalar(sa.select(sa.func.count(OutboundMessage.id)).where(*where))


def test_a_burst_to_one_address_sends_one_mail(client):
    answers = [client.post(START, json={"email": "burst@example.com"}) for _ in range(20)]
    assert answers[0].status_code == 202
    assert {a.status_code for a in answers[1:]} == {429}
    error = answers[1].get_json()["error"]
    assert error["code"] == "email_too_soon" and "fields" not in error
    assert 1 <= int(answers[1].headers["Retry-After"]) <= 60
    assert mails_to("burst@example.com") == 1


def test_a_known_address_is_limited_like_an_unknown_one(client, make_user):
    """Otherwise the 429 would tell which addresses have accounts."""
    make_user(email="known@example.com")
    for address in ("known@example.com", "unknown@example.com"):
        assert client.post(START, json={"email": address}).status_code == 202
        assert client.post(START, json={"email": address}).status_code == 429


def test_daily_limit_per_address(client):
    for _ in range(codes.MAIL_DAILY_PER_ADDRESS):
        assert client.post(START, json={"email": "daily@example.com"}).status_code == 202
        ratelimit.clear(*codes.MAIL_RESEND_LIMIT, "daily@example.com")  # a minute later
    refused = client.post(START, json={"email": "daily@example.com"})
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    assert mails_to("daily@example.com") == codes.MAIL_DAILY_PER_ADDRESS


def test_hourly_limit_per_client(client):
    for n in range(codes.MAIL_HOURLY_PER_IP):
        assert client.post(START, json={"email": f"a{n}@example.com"}).status_code == 202
    assert client.post(START, json={"email": "one-more@example.com"}).status_code == 429
    assert client.post(START, json={"email": "one-more@example.com"},
                       environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 202  # another client
    assert mails_to() == codes.MAIL_HOURLY_PER_IP + 1


def test_web_forms_share_the_limit_and_show_it(client, make_user, login):
    """Registration, reset and binding pages go through the same services: the second
    request shows the message and sends nothing."""
    make_user(email="reset@example.com")
    for url, address in (("/register?mode=email", "web@example.com"),
                         ("/password/forgot?mode=email", "reset@example.com")):
        assert "请查收邮件" in client.post(url, data={"email": address}).get_data(as_text=True)
        page = client.post(url, data={"email": address}).get_data(as_text=True)
        assert "邮件发送太频繁" in page and "请查收邮件" not in page
        assert mails_to(address) == 1
    # the API and the pages count the same address together
    assert client.post(START, json={"email": "web@example.com"}).status_code == 429
    login(make_user())
    client.post("/me/security/email", data={"email": "bind@example.com"})
    client.post("/me/security/email", data={"email": "bind@example.com"})
    with client.session_transaction() as session:
        assert any("邮件发送太频繁" in m for _c, m in session.get("_flashes", []))
    assert mails_to("bind@example.com") == 1
