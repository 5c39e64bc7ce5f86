"""秒杀 in the shop: the product page's block (running and upcoming), the 立即秒杀 post
going to the payment page, and the home page's 限时秒杀 block."""
from __future__ import annotations

import re
import time
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.flashsales.models import FlashSaleItem
from app.orders.models import Order


def test_a_running_event_shows_its_price_countdown_progress_and_button(client, make_flash_sale):
    sale, item = make_flash_sale(stock=10, price_fen=1990)
    db.session.execute(sa.update(FlashSaleItem).where(FlashSaleItem.id == item.id).values(stock_sold=3))
    db.session.commit()
    html = client.get(f"/products/{item.product_id}").get_data(as_text=True)
    assert "限时秒杀" in html and "距结束" in html and "立即秒杀" in html and "已抢 30%" in html
    assert f'data-ends-at="{sale.ends_at.isoformat()}"' in html
    assert re.search(r'class="price price-lg"><small>¥</small><span class="price-yuan">19</span><small>.90', html)


def test_an_upcoming_event_says_when_it_starts_and_has_no_button(client, make_flash_sale):
    sale, item = make_flash_sale(stock=10, starts_in=timedelta(hours=2))
    html = client.get(f"/products/{item.product_id}").get_data(as_text=True)
    assert "即将开始" in html and "立即秒杀" not in html
    assert f'data-ends-at="{sale.starts_at.isoformat()}"' in html


def test_the_button_buys_and_goes_to_the_payment_page(client, login, make_flash_sale, make_user, make_address):
    _sale, item = make_flash_sale(stock=2)
    buyer = make_user()
    make_address(buyer)
    login(buyer)
    item_id, product_id = item.id, item.product_id
    page = client.get(f"/products/{product_id}").get_data(as_text=True)
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    answer = client.post(f"/flash-sales/{item_id}/buy", data={"key": key, "quantity": "1"})
    order_no = db.session.scalar(sa.select(Order.order_no))
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/orders/{order_no}/pay")
    # the same page posted again (a double tap): the same order, nothing more
    again = client.post(f"/flash-sales/{item_id}/buy", data={"key": key, "quantity": "1"})
    assert again.headers["Location"].endswith(f"/orders/{order_no}/pay")
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 1
    # another key: over the limit, back to the product page with the reason
    refused = client.post(f"/flash-sales/{item_id}/buy", data={"key": "another-key-1", "quantity": "1"},
                          follow_redirects=True)
    assert "已达到每人限购数量" in refused.get_data(as_text=True)


def test_signed_out_shoppers_are_sent_to_sign_in(client, make_flash_sale):
    _sale, item = make_flash_sale(stock=2)
    answer = client.post(f"/flash-sales/{item.id}/buy", data={"key": "k" * 16})
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_the_home_block_lists_running_events_in_a_fixed_number_of_queries(client, make_flash_sale, count_queries):
    make_flash_sale(stock=5, price_fen=500)
    make_flash_sale(stock=5, starts_in=timedelta(hours=3))  # upcoming: not on the home block
    with count_queries() as few:
        html = client.get("/").get_data(as_text=True)
    assert html.count('class="flash-card"') == 1 and "限时秒杀" in html
    for _ in range(3):
        make_flash_sale(stock=5, price_fen=500)
    with count_queries() as more:
        html = client.get("/").get_data(as_text=True)
    assert html.count('class="flash-card"') == 4
    assert len(more) == len(few)


def test_with_the_page_cache_the_event_page_is_a_copy_of_a_second_for_first_visits_and_never_stored(
        app, monkeypatch, make_flash_sale, redis_client):
    """During a 秒杀 its product page is the hottest: visitors without a session get a process
    copy (app/web/shop/page_copies.py) at most LIVE_COPY_SECONDS old, so the progress moves
    within a second; visitors holding a session get it rendered each time, never from the
    shared page cache (it would keep the progress for the product body's two minutes)."""
    monkeypatch.setitem(app.config, "PAGE_CACHE_ENABLED", True)
    _sale, item = make_flash_sale(stock=10)
    path = f"/products/{item.product_id}"
    first = app.test_client().get(path)
    assert "立即秒杀" in first.get_data(as_text=True) and "已抢 0%" in first.get_data(as_text=True)
    assert app.test_client().get(path).data == first.data  # the copy (its key too)
    assert redis_client.keys(f"pc:page:shop.product_page:*:{item.product_id}:*") == []
    db.session.execute(sa.update(FlashSaleItem).where(FlashSaleItem.id == item.id).values(stock_sold=4))
    db.session.commit()  # sold behind the page cache's back: no generation moves

    def progress() -> str:
        return re.search(r"已抢 \d+%", app.test_client().get(path).get_data(as_text=True)).group(0)

    deadline = time.monotonic() + 5
    while progress() != "已抢 40%":
        assert time.monotonic() < deadline, "the copy outlived LIVE_COPY_SECONDS"
        time.sleep(0.05)
    holder = app.test_client()
    holder.get("/csrf-token")  # a visitor holding a session: rendered, its own key each time
    keys = {re.search(r'name="key" value="([^"]+)"', holder.get(path).get_data(as_text=True)).group(1) for _ in range(2)}
    assert len(keys) == 2 and redis_client.keys(f"pc:page:shop.product_page:*:{item.product_id}:*") == []
