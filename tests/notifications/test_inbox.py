"""The in-site inbox: a user sees and marks only their own messages."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.db import transaction
from app.extensions import db
from app.notifications import services as notifications
from app.notifications.models import Message


def notify(user, title: str, **fields) -> int:
    with transaction():
        return notifications.notify(user.id, title, **fields).id


def read_at(message_id: int):
    db.session.expire_all()
    return db.session.get(Message, message_id).read_at


def badge(client) -> str:
    response = client.get("/messages/unread-count")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def alice(make_user):
    return make_user(nickname="alice")


@pytest.fixture
def bob(make_user):
    return make_user(nickname="bob")


def test_the_inbox_lists_only_my_messages_newest_first(client, login, alice, bob):
    notify(alice, "订单已发货", body="顺丰 SF123")
    notify(alice, "退款成功")
    notify(bob, "bob 的私信")
    login(alice)

    html = client.get("/messages").get_data(as_text=True)

    assert html.index("退款成功") < html.index("订单已发货")
    assert "顺丰 SF123" in html
    assert "bob 的私信" not in html


def test_the_inbox_needs_sign_in(client):
    response = client.get("/messages")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post("/messages/read-all").status_code == 302


def test_mark_one_read(client, login, alice):
    message_id = notify(alice, "订单已发货")
    login(alice)

    response = client.post(f"/messages/{message_id}/read")

    assert response.status_code == 302 and response.headers["Location"].endswith("/messages")
    first = read_at(message_id)
    assert first is not None
    client.post(f"/messages/{message_id}/read")  # again: stays read, time unchanged
    assert read_at(message_id) == first


def test_mark_read_with_htmx_returns_the_item_and_a_link_is_followed(client, login, alice):
    plain = notify(alice, "系统通知")
    linked = notify(alice, "去评价", link="/orders/123")
    login(alice)

    partial = client.post(f"/messages/{plain}/read", headers={"HX-Request": "true"})
    assert partial.status_code == 200
    html = partial.get_data(as_text=True)
    assert f'id="message-{plain}"' in html and "unread" not in html.split(">")[0]

    followed = client.post(f"/messages/{linked}/read")
    assert followed.status_code == 302 and followed.headers["Location"].endswith("/orders/123")
    assert read_at(linked) is not None


def test_another_users_message_is_404_and_left_unread(client, login, alice, bob):
    bobs = notify(bob, "bob 的私信")
    login(alice)

    assert client.post(f"/messages/{bobs}/read").status_code == 404
    assert client.post(f"/messages/{bobs}/read", headers={"HX-Request": "true"}).status_code == 200  # toast
    assert client.post("/messages/987654/read").status_code == 404
    assert read_at(bobs) is None


def test_read_all_marks_only_my_unread_messages(client, login, alice, bob):
    mine = [notify(alice, f"消息{i}") for i in range(3)]
    bobs = notify(bob, "bob 的私信")
    login(alice)

    response = client.post("/messages/read-all")

    assert response.status_code == 302
    assert all(read_at(m) is not None for m in mine)
    assert read_at(bobs) is None
    assert notifications.unread_count(alice.id) == 0
    assert notifications.unread_count(bob.id) == 1


def test_the_unread_badge_counts(client, login, alice, bob):
    assert "d-none" in badge(client)  # signed out: hidden, no error

    first = notify(alice, "一")
    notify(alice, "二")
    notify(bob, "bob 的")
    login(alice)
    html = badge(client)
    assert 'id="unread-badge"' in html and "d-none" not in html
    assert ">2</span>" in html

    client.post(f"/messages/{first}/read")
    assert ">1</span>" in badge(client)

    client.post("/messages/read-all")
    assert "d-none" in badge(client)


def test_the_badge_caps_at_99(client, login, alice):
    with transaction():
        db.session.add_all(Message(recipient_id=alice.id, title=f"m{i}") for i in range(100))
    login(alice)
    assert ">99+</span>" in badge(client)
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 100
