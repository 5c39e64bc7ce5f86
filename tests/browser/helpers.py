"""Steps every browser journey takes: signing in with a password, answering the
confirm dialog."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.factories import PASSWORD


def sign_in(page: Page, phone: str, password: str = PASSWORD) -> None:
    """Through the password form; waits until the sign-in has left /login."""
    page.goto("/login")
    page.locator("#account").fill(phone)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def confirm(page: Page, label: str) -> None:
    """Answer the confirm dialog that a destructive or final action opens."""
    ok = page.locator("#confirm-modal-ok")
    expect(ok).to_have_text(label)
    ok.click()
