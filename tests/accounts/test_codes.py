"""SMS verification codes: issuing, limits, expiry, single use, lockout."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts import codes
from app.accounts.models import VerificationCode
from app.core.clock import utcnow
from app.core.db import transaction
from app.core.errors import RateLimited, ValidationError
from app.extensions import db

PHONE = "+8613811112222"


def send(phone=PHONE, purpose="register", ip="10.0.0.1"):
    with transaction():
        return codes.send_sms_code(phone, purpose, ip)


def latest_code(outbox, run_jobs):
    run_jobs()
    return outbox.last_code(PHONE)


def test_code_is_six_digits_stored_hashed_and_sent_after_commit(outbox, run_jobs):
    row = send()
    assert outbox.sms() == []  # queued, not yet delivered
    code = latest_code(outbox, run_jobs)
    assert len(code) == 6 and code.isdigit()
    stored = db.session.get(VerificationCode, row.id)
    assert code not in stored.code_hash
    assert abs((stored.expires_at - stored.created_at) - timedelta(minutes=5)) < timedelta(seconds=1)


def test_code_is_single_use(outbox, run_jobs):
    send()
    code = latest_code(outbox, run_jobs)
    with transaction():
        codes.consume_sms_code(PHONE, "register", code)
    with pytest.raises(ValidationError) as err, transaction():
        codes.consume_sms_code(PHONE, "register", code)
    assert err.value.code == "code_missing"


def test_code_for_another_purpose_does_not_work(outbox, run_jobs):
    send(purpose="login")
    code = latest_code(outbox, run_jobs)
    with pytest.raises(ValidationError), transaction():
        codes.consume_sms_code(PHONE, "register", code)


def test_expired_code_is_refused(outbox, run_jobs):
    row = send()
    code = latest_code(outbox, run_jobs)
    with transaction():
        db.session.execute(sa.update(VerificationCode).where(VerificationCode.id == row.id)
                           .values(expires_at=row.created_at))
    with pytest.raises(ValidationError) as err, transaction():
        codes.consume_sms_code(PHONE, "register", code)
    assert err.value.code == "code_expired"


def test_five_wrong_tries_lock_the_code_and_each_try_is_counted(outbox, run_jobs):
    row = send()
    code = latest_code(outbox, run_jobs)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for attempt in range(1, 6):
        with pytest.raises(codes.WrongCode), transaction():
            codes.consume_sms_code(PHONE, "register", wrong)
        assert db.session.get(VerificationCode, row.id).attempts == attempt  # kept despite the failed request
        db.session.expire_all()
    with pytest.raises(ValidationError) as err, transaction():
        codes.consume_sms_code(PHONE, "register", code)  # even the right code is refused now
    assert err.value.code == "code_locked"


def test_resend_within_60_seconds_is_refused_as_a_limit():
    send()
    with pytest.raises(RateLimited) as err:
        send()
    assert err.value.code == "code_too_soon" and 55 <= err.value.retry_after <= 60


def test_daily_limit_per_phone(app):
    for _ in range(10):
        send()
        with transaction():  # step past the 60 s resend gap
            db.session.execute(sa.update(VerificationCode).values(created_at=utcnow() - timedelta(minutes=2)))
    with pytest.raises(RateLimited):
        send()


def test_hourly_limit_per_ip():
    for n in range(30):
        send(phone=f"+86138000{n:05d}", ip="10.9.9.9")
    with pytest.raises(RateLimited):
        send(phone="+8613899999999", ip="10.9.9.9")
    send(phone="+8613899999999", ip="10.9.9.8")  # another IP is fine


def test_email_link_token_single_use_and_tamper_proof():
    with transaction():
        token = codes.create_email_link_token("a@example.com", "register")
    assert codes.read_email_link_token(token, "register", consume=False) == "a@example.com"
    with pytest.raises(ValidationError):
        codes.read_email_link_token(token, "reset", consume=False)  # other purpose
    with pytest.raises(ValidationError):
        codes.read_email_link_token(token[:-2] + "xx", "register", consume=False)
    with transaction():
        codes.read_email_link_token(token, "register", consume=True)
    with pytest.raises(ValidationError) as err:
        codes.read_email_link_token(token, "register", consume=False)
    assert err.value.code == "token_used"


def test_email_link_expires_after_24_hours(monkeypatch):
    with transaction():
        token = codes.create_email_link_token("b@example.com", "register")
    import itsdangerous.timed

    real = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: real(self) + 24 * 3600 + 5)
    with pytest.raises(ValidationError) as err:
        codes.read_email_link_token(token, "register", consume=False)
    assert err.value.code == "token_expired"


def test_wrong_code_message_counts_the_tries_left_at_each_attempt(outbox, run_jobs):
    """Five tries in all: after the first wrong one four are left, ..., after the fifth none."""
    send()
    code = latest_code(outbox, run_jobs)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    messages = []
    for _attempt in range(5):
        with pytest.raises(codes.WrongCode) as err, transaction():
            codes.consume_sms_code(PHONE, "register", wrong)
        messages.append(err.value.fields["code"])
        db.session.expire_all()
    assert messages == [
        "验证码不正确，还可以再试 4 次", "验证码不正确，还可以再试 3 次", "验证码不正确，还可以再试 2 次",
        "验证码不正确，还可以再试 1 次", "验证码错误次数过多，请重新获取",
    ]
