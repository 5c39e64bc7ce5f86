"""Fixtures for payment tests: keys made once per session, and fake gateways
started per test with the app config pointed at them (restored afterwards)."""
from __future__ import annotations

import pytest

from tests.payments.fakes import FakeAlipayPay, FakeWechatPay, PaymentKeys


@pytest.fixture(scope="session")
def payment_keys() -> PaymentKeys:
    # RSA 2048 generation is slow: five keys, once.
    return PaymentKeys.generate()


@pytest.fixture
def wechatpay_fake(app, monkeypatch, payment_keys):
    fake = FakeWechatPay(payment_keys.wechat)
    fake.configure(app, monkeypatch)
    yield fake
    fake.close()


@pytest.fixture
def alipay_fake(app, monkeypatch, payment_keys):
    fake = FakeAlipayPay(keys=payment_keys.alipay)
    fake.configure(app, monkeypatch)
    yield fake
    fake.close()


@pytest.fixture(autouse=True)
def _books_hold(books_hold):
    """Every test here ends with the books agreeing with what happened (docs/finance.md)."""
