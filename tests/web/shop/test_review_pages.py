"""Reviews: the form per received item, its refusals, and what the product page shows."""
import io

import sqlalchemy as sa

from app.core.db import transaction
from app.extensions import db
from app.merchants.models import MerchantMember
from app.orders import reviews
from app.orders.models import OrderItem, Review
from tests.factories import png_bytes


def _url(order):
    return f"/orders/{order.order_no}/items/{order.items[0].id}/review"


def _images(n):
    return [(io.BytesIO(png_bytes()), f"p{i}.png") for i in range(n)]


def test_review_with_images_shows_on_the_product_page(client, make_user, login, buyer_order, make_product):
    buyer = make_user(nickname="张三丰")
    product = make_product(title="竹编收纳篮")
    order = buyer_order(buyer, "received", product=product)
    login(buyer)
    assert "发表评价" in client.get(_url(order)).get_data(as_text=True)
    response = client.post(_url(order), data={"rating": "4", "text": "编得很细，大小合适", "anonymous": "y",
                                              "images": _images(2)}, content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"] == f"/orders/{order.order_no}"
    review = db.session.scalar(sa.select(Review).where(Review.order_item_id == order.items[0].id))
    assert review.rating == 4 and review.anonymous and len(review.images) == 2
    owner_id = db.session.scalar(sa.select(MerchantMember.user_id).where(MerchantMember.merchant_id == order.merchant_id))
    with transaction():
        reviews.reply(order.merchant_id, review.id, "谢谢支持，欢迎再来")
    assert owner_id
    client.post("/logout")
    html = client.get(f"/products/{product.id}").get_data(as_text=True)
    assert "编得很细，大小合适" in html and "张**" in html and "张三丰" not in html
    assert "4.0 分" in html and "商家回复" in html and "谢谢支持，欢迎再来" in html and "全部评价" in html
    thumb = review.images[0]["thumb_key"].split("/")
    assert f"/media/reviews/{thumb[1]}/{thumb[2]}" in html
    image = client.get(f"/media/reviews/{thumb[1]}/{thumb[2]}")
    assert image.status_code == 200 and image.mimetype == "image/webp"
    assert client.get(f"/media/reviews/{thumb[1]}/nothing.png").status_code == 404
    all_reviews = client.get(f"/products/{product.id}/reviews").get_data(as_text=True)
    assert "共 1 条评价" in all_reviews and "编得很细" in all_reviews
    # a hidden review's images are no longer served
    review.visible = False
    db.session.commit()
    assert client.get(f"/media/reviews/{thumb[1]}/{thumb[2]}").status_code == 404


def test_review_refusals(client, make_user, login, buyer_order):
    buyer = make_user()
    received, shipped = buyer_order(buyer, "received"), buyer_order(buyer, "shipped")
    login(buyer)
    # before receipt
    response = client.post(_url(shipped), data={"rating": "5"})
    assert response.headers["Location"] == f"/orders/{shipped.order_no}"
    assert "确认收货后才能评价" in client.get(f"/orders/{shipped.order_no}").get_data(as_text=True)
    # seven images, no rating, too long: the form says why
    response = client.post(_url(received), data={"rating": "5", "images": _images(7)}, content_type="multipart/form-data")
    assert response.status_code == 422 and "最多上传 6 张图片" in response.get_data(as_text=True)
    response = client.post(_url(received), data={"text": "没有选星"})
    assert response.status_code == 422 and "请选择 1 到 5 星" in response.get_data(as_text=True)
    response = client.post(_url(received), data={"rating": "5", "images": [(io.BytesIO(b"not an image"), "x.png")]},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "只支持 JPEG、PNG 或 WebP 图片" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Review)) == 0
    # once, then refused
    assert client.post(_url(received), data={"rating": "5"}).status_code == 302
    response = client.post(_url(received), data={"rating": "1", "text": "再评一次"})
    assert response.headers["Location"] == f"/orders/{received.order_no}"
    assert "该商品已评价" in client.get(f"/orders/{received.order_no}").get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Review)) == 1
    assert db.session.scalar(sa.select(OrderItem.reviewed).where(OrderItem.id == received.items[0].id))


def test_someone_elses_item_cannot_be_reviewed(client, make_user, login, buyer_order):
    owner, other = make_user(), make_user()
    order = buyer_order(owner, "received")
    login(other)
    assert client.get(_url(order)).status_code == 404
    assert client.post(_url(order), data={"rating": "5"}).status_code == 404
    login(owner)
    assert client.get(f"/orders/{order.order_no}/items/999999/review").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Review)) == 0


def test_a_review_photo_served_to_anyone_carries_no_location(client, make_user, login, buyer_order):
    from PIL import Image

    from tests.core.test_storage import photo_with_location

    buyer = make_user()
    order = buyer_order(buyer, "received")
    login(buyer)
    photo = photo_with_location("JPEG", (80, 60), orientation=6)
    response = client.post(_url(order), data={"rating": "5", "text": "拍给大家看看实物",
                                              "images": [(io.BytesIO(photo), "IMG_0001.jpg")]},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    review = db.session.scalar(sa.select(Review).where(Review.order_item_id == order.items[0].id))
    client.post("/logout")
    for key in (review.images[0]["key"], review.images[0]["thumb_key"]):
        _folder, order_id, name = key.split("/")
        served = client.get(f"/media/reviews/{order_id}/{name}")
        assert served.status_code == 200 and b"PhoneMaker" not in served.data
        with Image.open(io.BytesIO(served.data)) as img:
            assert not img.getexif().get_ifd(0x8825) and 0x0112 not in img.getexif()
    with Image.open(io.BytesIO(client.get(f"/media/reviews/{review.images[0]['key'].split('/', 1)[1]}").data)) as img:
        assert img.size == (60, 80)  # stored upright
