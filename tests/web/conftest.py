"""Fixtures shared by every surface's tests."""
from __future__ import annotations

import pytest

from app import create_app
from app.config import ProdConfig, TestConfig
from app.extensions import db

PUBLIC_BASE_URL = "https://shop.example.com"


@pytest.fixture
def production_app(app, tmp_path):
    """The app as production configures it (ProdConfig: trusted hosts, HTTPS only),
    on the test database and Redis, public at https://shop.example.com."""
    prod = create_app(
        ProdConfig,
        SECRET_KEY="production-test-secret",
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
        SQLALCHEMY_DATABASE_URI=TestConfig.SQLALCHEMY_DATABASE_URI,
        REDIS_URL=TestConfig.REDIS_URL,
        RATELIMIT_STORAGE_URI=TestConfig.REDIS_URL,
        SANDBOX_PAY_SECRET=None,
        LOG_JSON=False,
        OUTBOX_DIR=str(tmp_path / "outbox"),
        UPLOAD_DIR=str(tmp_path / "uploads"),
    )
    yield prod
    with prod.app_context():
        db.engine.dispose()
