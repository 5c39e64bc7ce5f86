"""Turning marketing messages off, on the profile page and through the API; someone else
cannot turn them off for you."""
from __future__ import annotations

import re

from app.extensions import db


def test_the_profile_page_turns_marketing_off_and_on(client, login, make_user):
    user = make_user()
    login(user)
    box = re.search(r'<input[^>]*name="accepts_marketing"[^>]*>', client.get("/me/profile").get_data(as_text=True))
    assert box and "checked" in box.group(0)  # on until the user turns it off
    assert client.post("/me/profile", data={"nickname": user.nickname}).status_code == 302  # box unticked
    db.session.refresh(user)
    assert user.marketing_opt_out is True
    client.post("/me/profile", data={"nickname": user.nickname, "accepts_marketing": "y"})
    db.session.refresh(user)
    assert user.marketing_opt_out is False


def test_the_api_turns_it_off_for_the_signed_in_user_only(client, make_user, api_token):
    me, other = make_user(), make_user()
    answer = client.put("/api/v1/me/marketing", json={"accepts": False}, headers=api_token(me))
    assert answer.status_code == 200 and answer.json["accepts_marketing"] is False
    db.session.refresh(me)
    db.session.refresh(other)
    assert me.marketing_opt_out is True and other.marketing_opt_out is False
    assert client.get("/api/v1/me", headers=api_token(me)).json["accepts_marketing"] is False
    # bad input changes nothing; no token, no change
    assert client.put("/api/v1/me/marketing", json={"accepts": "maybe"}, headers=api_token(me)).status_code == 422
    assert client.put("/api/v1/me/marketing", json={"accepts": True, "user_id": other.id},
                      headers=api_token(me)).status_code == 422
    assert client.put("/api/v1/me/marketing", json={"accepts": False}).status_code == 401
    db.session.refresh(me)
    assert me.marketing_opt_out is True
