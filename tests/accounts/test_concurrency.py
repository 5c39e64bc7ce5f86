"""Races on real PostgreSQL: a code used twice at once, a number registered twice at once."""

import pytest
import sqlalchemy as sa

from app.accounts import codes
from app.accounts import services as accounts
from app.accounts.models import User
from app.core.db import transaction
from app.core.errors import DomainError
from app.extensions import db
from tests.race import at_once

pytestmark = pytest.mark.live_db


def race(app, n, work):
    """Run `work(i)` in n threads released together; return what each returned or raised."""
    return at_once(n, work, app=app)


def test_one_code_registers_one_account_even_when_submitted_at_once(app, outbox, run_jobs):
    phone = "+8613966667777"
    with transaction():
        codes.send_sms_code(phone, "register", "10.0.0.1")
    run_jobs()
    code = outbox.last_code(phone)
    db.session.remove()

    def register(i):
        with transaction():
            return accounts.register_with_phone(phone, code, f"pass{i}word1", agreed_terms=True).id

    results = race(app, 4, register)
    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if isinstance(r, DomainError)]
    assert len(winners) == 1 and len(losers) == 3, results
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.phone == phone)) == 1


def test_a_code_is_consumed_once_under_a_race(app, outbox, run_jobs):
    phone = "+8613966668888"
    with transaction():
        codes.send_sms_code(phone, "login", "10.0.0.2")
    run_jobs()
    code = outbox.last_code(phone)
    db.session.remove()

    def consume(i):
        with transaction():
            codes.consume_sms_code(phone, "login", code)
        return "used"

    results = race(app, 5, consume)
    assert results.count("used") == 1, results
