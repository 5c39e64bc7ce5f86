"""Fixtures for orders tests."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _books_hold(books_hold):
    """Every test here ends with the books agreeing with what happened (docs/finance.md)."""
