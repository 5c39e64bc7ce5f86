"""Admin review moderation: the list with its filters, hide (reason required)
and show again over HTMX and as plain posts, the audit log entry, the product
page average, permissions, and a fixed query count."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.core.db import transaction
from app.core.models import AuditLog
from app.extensions import db
from app.orders import reviews
from app.orders import services as order_services
from app.orders.models import Order, Review
from tests.web.helpers import text

HX = {"HX-Request": "true"}


def fresh(review_id) -> Review:
    db.session.expire_all()
    return db.session.get(Review, review_id)


@pytest.fixture
def make_review(make_user, make_merchant, make_product, place_order, pay_sandbox):
    def make(rating=5, text_="很好", title=None):
        owner = make_user()
        merchant = make_merchant(owner=owner)
        product = make_product(merchant=merchant, title=title, stocks=(9,))
        buyer = make_user()
        payment = place_order(buyer, [(product.skus[0].id, 1)])
        assert pay_sandbox(payment).status_code == 200
        order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))
        with transaction():
            order_services.ship(owner.id, merchant.id, order.order_no, "shunfeng", "SF1234567890")
        with transaction():
            order_services.confirm_receipt(buyer.id, order.order_no)
        with transaction():
            return reviews.create(buyer.id, order.items[0].id, rating, text_)

    return make


def admin(app, make_user, login, role="operator"):
    user = make_user(admin_role=role)
    return login(user, on=app.test_client()), user


def test_permissions(app, client, make_user, login, make_review):
    review = make_review()
    login(make_user())
    assert client.get("/admin/reviews").status_code == 403
    assert client.post(f"/admin/reviews/{review.id}/hide", data={"reason": "广告"}).status_code == 403
    finance, _ = admin(app, make_user, login, "finance")
    assert finance.get("/admin/reviews").status_code == 403
    assert finance.post(f"/admin/reviews/{review.id}/hide", data={"reason": "广告"}).status_code == 403
    assert fresh(review.id).visible is True
    operator, _ = admin(app, make_user, login)
    assert operator.post("/admin/reviews/999999/hide", data={"reason": "广告"}).status_code == 404


def test_list_and_filters(app, make_user, login, make_review):
    c, _ = admin(app, make_user, login)
    assert "还没有评价" in text(c.get("/admin/reviews"))
    good = make_review(5, "非常满意", title="竹编篮子")
    bad = make_review(1, "加微信领红包")
    html = text(c.get("/admin/reviews"))
    assert "非常满意" in html and "加微信领红包" in html and "竹编篮子" in html
    html = text(c.get("/admin/reviews?rating=1", headers={**HX, "HX-Target": "reviews-table"}))
    assert "加微信领红包" in html and "非常满意" not in html and "<html" not in html
    with transaction():
        reviews.set_visible(make_user(admin_role="operator"), bad.id, False, "广告")
    html = text(c.get("/admin/reviews?visible=hidden"))
    assert "加微信领红包" in html and "非常满意" not in html and "原因：广告" in html
    html = text(c.get("/admin/reviews?visible=visible"))
    assert "非常满意" in html and "加微信领红包" not in html
    assert "没有符合条件的评价" in text(c.get("/admin/reviews?q=不存在"))
    assert good.id


def test_hide_needs_a_reason_then_hides_audited_and_shows_again(app, make_user, login, make_review):
    c, operator = admin(app, make_user, login)
    review = make_review(1, "骂人的话")
    product_id = review.product_id
    resp = c.post(f"/admin/reviews/{review.id}/hide", data={"reason": "  "}, headers=HX)
    html = text(resp)
    assert "请填写隐藏原因" in html and f'id="review-{review.id}"' in html and "collapse show" in html
    assert fresh(review.id).visible is True
    resp = c.post(f"/admin/reviews/{review.id}/hide", data={"reason": ""})
    assert resp.status_code == 302 and fresh(review.id).visible is True
    resp = c.post(f"/admin/reviews/{review.id}/hide", data={"reason": "辱骂内容"}, headers=HX)
    assert "已隐藏" in text(resp) and json.loads(resp.headers["HX-Trigger"])["toast"]["level"] == "success"
    hidden = fresh(review.id)
    assert hidden.visible is False and hidden.hidden_reason == "辱骂内容"
    assert reviews.summary(product_id).count == 0
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "review.hide"))
    assert entry is not None and entry.actor_id == operator.id and entry.note == "辱骂内容"
    log = text(admin(app, make_user, login, "super")[0].get("/admin/audit?action=review"))
    assert "review.hide" in log and "辱骂内容" in log
    resp = c.post(f"/admin/reviews/{review.id}/show")
    assert resp.status_code == 302 and fresh(review.id).visible is True
    assert reviews.summary(product_id).count == 1
    assert db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "review.show")) is not None


def test_list_runs_a_fixed_number_of_queries(app, make_user, login, make_review, count_queries):
    c, _ = admin(app, make_user, login)
    make_review()
    c.get("/admin/reviews")
    with count_queries() as one:
        c.get("/admin/reviews")
    for _ in range(4):
        make_review()
    with count_queries() as five:
        html = text(c.get("/admin/reviews"))
    assert html.count('class="review-group"') == 5
    assert len(five) == len(one)
