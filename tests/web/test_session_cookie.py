"""The session cookie (app/web/session_cookie.py): Flask's own format, its serializer made
once per secret key rather than twice a request, and a key rotation still honoured."""
from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface

from app.web.session_cookie import SessionCookie


def test_cookies_are_flasks_own_either_way(app, client):
    ours, flasks = app.session_interface, SecureCookieSessionInterface()
    assert isinstance(ours, SessionCookie)
    made_by_flask = flasks.get_signing_serializer(app).dumps({"csrf_token": "abc", "_fresh": False})
    assert ours.get_signing_serializer(app).loads(made_by_flask) == {"csrf_token": "abc", "_fresh": False}
    assert flasks.get_signing_serializer(app).loads(ours.get_signing_serializer(app).dumps({"n": 1})) == {"n": 1}
    client.set_cookie("session", made_by_flask)
    assert client.get("/login").status_code == 200  # read and carried through a request


def test_one_serializer_per_secret_key_and_a_rotation_is_followed(app, monkeypatch):
    ours = app.session_interface
    first = ours.get_signing_serializer(app)
    assert ours.get_signing_serializer(app) is first  # not rebuilt per request
    old_cookie = first.dumps({"csrf_token": "abc"})
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-rotated-secret")
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [first.secret_keys[-1].decode()])
    rotated = ours.get_signing_serializer(app)
    assert rotated is not first and rotated.loads(old_cookie) == {"csrf_token": "abc"}
    assert SecureCookieSessionInterface().get_signing_serializer(app).loads(rotated.dumps({"n": 2})) == {"n": 2}
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [])
    assert ours.get_signing_serializer(app).loads_unsafe(old_cookie)[0] is False  # the old key no longer signs
