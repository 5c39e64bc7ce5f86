"""The console's review pages: the list with the 未回复 filter, one reply per
review over HTMX and as a plain post, images, and another shop refused."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.db import transaction
from app.extensions import db
from app.orders import reviews
from app.orders import services as order_services
from app.orders.models import Order, Review
from tests.factories import png_bytes
from tests.web.helpers import text

HX = {"HX-Request": "true"}


@pytest.fixture
def reviewed(app, make_user, make_merchant, make_product, place_order, pay_sandbox, login):
    """A shop with a client for its owner and a factory of reviews of its product."""
    owner = make_user()
    merchant = make_merchant(owner=owner)
    product = make_product(merchant=merchant, title="手工红糖", stocks=(50,))

    def review(rating=5, text_="很好吃", images=None):
        buyer = make_user()
        payment = place_order(buyer, [(product.skus[0].id, 1)])
        assert pay_sandbox(payment).status_code == 200
        order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))
        with transaction():
            order_services.ship(owner.id, merchant.id, order.order_no, "shunfeng", "SF1234567890")
        with transaction():
            order_services.confirm_receipt(buyer.id, order.order_no)
        with transaction():
            return reviews.create(buyer.id, order.items[0].id, rating, text_, images=images)

    return login(owner, on=app.test_client()), merchant, review


def test_list_filter_and_reply_once(reviewed):
    client, merchant, review = reviewed
    assert "还没有买家评价" in text(client.get("/merchant/reviews"))
    first, second = review(5, "很好吃"), review(2, "有点潮")
    html = text(client.get("/merchant/reviews"))
    assert "很好吃" in html and "有点潮" in html and "手工红糖" in html
    resp = client.post(f"/merchant/reviews/{first.id}/reply", data={"reply": "  "}, headers=HX)
    assert "请输入回复内容" in text(resp) and db.session.get(Review, first.id).reply is None
    resp = client.post(f"/merchant/reviews/{first.id}/reply", data={"reply": "感谢支持"}, headers=HX)
    assert f'id="review-{first.id}"' in text(resp) and "商家回复：" in text(resp) and "感谢支持" in text(resp)
    html = text(client.get("/merchant/reviews?filter=unreplied"))
    assert "有点潮" in html and "很好吃" not in html
    # a second reply is refused and the first stands
    resp = client.post(f"/merchant/reviews/{first.id}/reply", data={"reply": "再说一次"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Review, first.id).reply == "感谢支持"
    resp = client.post(f"/merchant/reviews/{second.id}/reply", data={"reply": "已为您补发"})
    assert resp.status_code == 302
    assert "所有评价都已回复" in text(client.get("/merchant/reviews?filter=unreplied"))


def test_review_images_are_served_to_the_shop(reviewed):
    client, merchant, review = reviewed
    r = review(images=[png_bytes()])
    html = text(client.get("/merchant/reviews"))
    name = r.images[0]["thumb_key"].rsplit("/", 1)[-1]
    assert f"/merchant/reviews/{r.id}/images/{name}" in html
    resp = client.get(f"/merchant/reviews/{r.id}/images/{name}")
    assert resp.status_code == 200 and resp.mimetype.startswith("image/")
    assert client.get(f"/merchant/reviews/{r.id}/images/nope.png").status_code == 404


def test_another_shop_gets_404_and_changes_nothing(app, reviewed, make_user, make_merchant, login):
    client, merchant, review = reviewed
    r = review(images=[png_bytes()])
    stranger = make_user()
    make_merchant(owner=stranger)
    outsider = login(stranger, on=app.test_client())
    assert "很好吃" not in text(outsider.get("/merchant/reviews"))
    assert outsider.post(f"/merchant/reviews/{r.id}/reply", data={"reply": "我来回复"}).status_code == 404
    name = r.images[0]["key"].rsplit("/", 1)[-1]
    assert outsider.get(f"/merchant/reviews/{r.id}/images/{name}").status_code == 404
    db.session.expire_all()
    assert db.session.get(Review, r.id).reply is None
