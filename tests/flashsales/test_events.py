"""Flash-sale events through the services: validation, who may do what, the stock
carved out at scheduling and given back exactly once, and buying one unit."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.catalog.models import Sku
from app.core.bounds import MAX_INT
from app.core.clock import travel, utcnow
from app.core.db import transaction
from app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from app.extensions import db
from app.flashsales import buying, fastpath, policies, redis_sync, services
from app.flashsales.models import FlashSale, FlashSaleBuyer, FlashSaleItem, FlashSaleOrder
from app.inventory.models import StockMovement
from app.orders import services as order_services
from app.orders.models import Order


def sku_stock(sku_id: int) -> int:
    return db.session.scalar(sa.select(Sku.stock).where(Sku.id == sku_id).execution_options(populate_existing=True))


def item_row(item_id: int) -> FlashSaleItem:
    db.session.expire_all()
    return db.session.get(FlashSaleItem, item_id)


def event(sku: int, **item) -> dict:
    now = utcnow()
    return {"title": "双十二秒杀", "starts_at": now + timedelta(hours=1), "ends_at": now + timedelta(hours=3),
            "items": [{"sku_id": sku, "price_fen": 100, "stock": 5, "per_buyer_limit": 1, **item}]}


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("item", "raw_extra", "field", "text"), [
    ({"price_fen": 9900}, {}, "items.0.price_fen", "秒杀价必须低于原价"),
    ({"price_fen": 0}, {}, "items.0.price_fen", "大于 0"),
    ({"price_fen": MAX_INT + 1}, {}, "items.0.price_fen", "大于 0"),
    ({"stock": 11}, {}, "items.0.stock", "不能超过现有库存 10"),
    ({"stock": 10**30}, {}, "items.0.stock", "大于 0"),
    ({"per_buyer_limit": 0}, {}, "items.0.per_buyer_limit", "1 到 99"),
    ({"per_buyer_limit": 6}, {}, "items.0.per_buyer_limit", "不能超过活动库存"),
    ({"sku_id": MAX_INT}, {}, "items.0.sku_id", "在售"),
    ({}, {"ends_at_before_start": True}, "ends_at", "晚于开始时间"),
    ({}, {"title": ""}, "title", "活动名称"),
    ({}, {"title": "长" * 41}, "title", "最多 40 字"),
    ({}, {"too_long": True}, "ends_at", "最长 7 天"),
])
def test_bad_input_is_refused_with_the_field_named(operator, make_product, item, raw_extra, field, text):
    sku = make_product(stocks=(10,), price_fen=9900).skus[0]
    raw = event(sku.id, **item)
    if raw_extra.pop("ends_at_before_start", False):
        raw["ends_at"] = raw["starts_at"] - timedelta(minutes=1)
    if raw_extra.pop("too_long", False):
        raw["ends_at"] = raw["starts_at"] + timedelta(days=8)
    raw.update(raw_extra)
    with pytest.raises(ValidationError) as refused, transaction():
        services.create(policies.platform(operator), raw)
    assert refused.value.code == "invalid_flash_sale"
    assert text in refused.value.fields[field], refused.value.fields
    assert db.session.scalar(sa.select(sa.func.count(FlashSale.id))) == 0


def test_a_merchant_may_only_pick_its_own_skus(make_merchant, make_product, make_user):
    owner = make_user()
    shop = make_merchant(owner=owner)
    other = make_product(stocks=(10,)).skus[0]
    with pytest.raises(ValidationError) as refused, transaction():
        services.create(policies.shop(owner.id, shop.id), event(other.id))
    assert "items.0.sku_id" in refused.value.fields


def test_a_sku_cannot_be_in_two_events_at_the_same_time(operator, make_flash_sale):
    sale, item = make_flash_sale(stock=3)
    raw = event(item.sku_id)
    raw["starts_at"] = sale.starts_at + timedelta(minutes=10)
    with pytest.raises(ValidationError) as refused, transaction():
        services.create(policies.platform(operator), raw)
    assert "同一时段" in refused.value.fields["items.0.sku_id"]


# --- permissions ---------------------------------------------------------------------------------


def test_another_shop_cannot_see_edit_submit_or_cancel_the_event(make_merchant, make_product, make_user):
    owner, intruder = make_user(), make_user()
    shop, other_shop = make_merchant(owner=owner), make_merchant(owner=intruder)
    sku = make_product(merchant=shop, stocks=(10,)).skus[0]
    mine = policies.shop(owner.id, shop.id)
    with transaction():
        sale_id = services.create(mine, event(sku.id)).id
    theirs = policies.shop(intruder.id, other_shop.id)
    for attempt in (lambda: services.update(theirs, sale_id, event(sku.id, price_fen=50)),
                    lambda: services.submit(theirs, sale_id), lambda: services.cancel(theirs, sale_id),
                    lambda: services.approve(theirs, sale_id)):
        with pytest.raises(NotFound), transaction():
            attempt()
    assert db.session.get(FlashSale, sale_id).status == "draft"
    assert item_row(db.session.get(FlashSale, sale_id).items[0].id).price_fen == 100


def test_a_shop_cannot_approve_its_own_request_nor_finance_approve_any(make_merchant, make_product, make_user):
    owner, finance = make_user(), make_user(admin_role="finance")
    shop = make_merchant(owner=owner)
    sku = make_product(merchant=shop, stocks=(10,)).skus[0]
    mine = policies.shop(owner.id, shop.id)
    with transaction():
        sale_id = services.create(mine, event(sku.id)).id
        services.submit(mine, sale_id)
    with pytest.raises(Forbidden), transaction():
        services.approve(mine, sale_id)
    with pytest.raises(NotFound), transaction():
        services.approve(policies.platform(finance), sale_id)
    assert db.session.get(FlashSale, sale_id).status == "pending_review" and sku_stock(sku.id) == 10


# --- stock carved out and given back ----------------------------------------------------------


def test_approval_carves_the_stock_and_the_end_gives_back_exactly_the_rest(
        make_merchant, make_product, make_user, operator, make_address):
    owner = make_user()
    shop = make_merchant(owner=owner)
    sku = make_product(merchant=shop, stocks=(10,), price_fen=9900).skus[0]
    mine = policies.shop(owner.id, shop.id)
    with transaction():
        sale_id = services.create(mine, event(sku.id, stock=6, per_buyer_limit=2)).id
        services.submit(mine, sale_id)
    with transaction():
        services.approve(policies.platform(operator), sale_id)
    assert sku_stock(sku.id) == 4
    item_id = db.session.get(FlashSale, sale_id).items[0].id
    assert item_row(item_id).held

    # two units sold once it runs
    buyer = db.session.merge(make_user())
    address = make_address(buyer)
    with travel(timedelta(hours=1, minutes=1)):
        redis_sync.rebuild_sale(sale_id)
        with transaction():
            buying.buy(buyer, item_id, 2, address.id, uuid.uuid4().hex)
        assert sku_stock(sku.id) == 4  # the order's units came out of the event, not the shelf again

    with travel(timedelta(hours=3, seconds=5)):
        with transaction():
            assert services.end_if_due(sale_id)
        with transaction():
            assert not services.end_if_due(sale_id)  # the job and the sweep both ran: once
    assert sku_stock(sku.id) == 8  # 4 + the 4 unsold
    assert item_row(item_id).released_units == 4
    moves = db.session.execute(sa.select(StockMovement.delta, StockMovement.reason).where(
        StockMovement.sku_id == sku.id).order_by(StockMovement.id)).all()
    assert [tuple(m) for m in moves] == [(-6, "flash_sale_hold"), (4, "flash_sale_release")]


def test_cancelling_a_scheduled_event_gives_back_its_stock_once(operator, make_flash_sale):
    sale, item = make_flash_sale(stock=7, sku_stock=20)
    assert sku_stock(item.sku_id) == 13
    with transaction():
        services.cancel(policies.platform(operator), sale.id)
    with pytest.raises(Forbidden), transaction():
        services.cancel(policies.platform(operator), sale.id)
    assert sku_stock(item.sku_id) == 20


def test_scheduling_more_than_the_sku_has_now_is_refused_whole(operator, make_product):
    sku = make_product(stocks=(10,), price_fen=9900).skus[0]
    actor = policies.platform(operator)
    with transaction():
        sale_id = services.create(actor, event(sku.id, stock=8)).id
    db.session.execute(sa.update(Sku).where(Sku.id == sku.id).values(stock=5))
    db.session.commit()
    with pytest.raises(Conflict) as refused, transaction():
        services.publish(actor, sale_id)
    assert refused.value.code == "out_of_stock"
    assert db.session.get(FlashSale, sale_id).status == "draft" and sku_stock(sku.id) == 5


# --- buying -----------------------------------------------------------------------------------------


def test_a_winner_gets_an_order_at_the_event_price_held_from_the_event(make_flash_sale, make_user, make_address):
    sale, item = make_flash_sale(stock=3, price_fen=990, sku_stock=10)
    buyer = make_user()
    address = make_address(buyer)
    with transaction():
        payment = buying.buy(buyer, item.id, 1, address.id, "flash-key-0001")
    order = payment.orders[0]
    assert (order.items[0].unit_price_fen, order.items_fen, order.stock_state) == (990, 990, "held")
    assert sku_stock(item.sku_id) == 7  # carved at publish, nothing more
    assert item_row(item.id).stock_sold == 1
    assert fastpath.left(db.session.get_bind() and _redis(), item.id) == 2
    # the same key again: the same payment, nothing more taken
    with transaction():
        again = buying.buy(buyer, item.id, 1, address.id, "flash-key-0001")
    assert again.id == payment.id and item_row(item.id).stock_sold == 1 and fastpath.left(_redis(), item.id) == 2


def _redis():
    from app.core.jobs import get_redis

    return get_redis()


def test_a_loser_is_answered_from_redis_without_a_single_sql_statement(make_flash_sale, make_user, count_queries):
    sale, item = make_flash_sale(stock=1, limit=1)
    buyer = make_user()
    db.session.commit()
    item_id, buyer_id = item.id, buyer.id  # loaded: reading them again runs no SQL
    _redis().set(f"flash:{{{item_id}}}:left", 0)
    with count_queries() as statements, pytest.raises(Conflict) as refused:
        buying.buy(buyer, item_id, 1, 1, uuid.uuid4().hex)
    assert refused.value.code == "sold_out" and statements == [] and buyer_id


def test_the_window_and_the_limit_are_answered_from_redis_too(make_flash_sale, make_user, count_queries):
    _sale, upcoming = make_flash_sale(stock=5, starts_in=timedelta(hours=1))
    _sale2, item = make_flash_sale(stock=5, limit=2)
    buyer = make_user()
    db.session.commit()
    upcoming_id, item_id, _ = upcoming.id, item.id, buyer.id  # loaded before counting
    with count_queries() as statements:
        with pytest.raises(ValidationError) as early:
            buying.buy(buyer, upcoming_id, 1, 1, uuid.uuid4().hex)
        with pytest.raises(Conflict) as greedy:
            buying.buy(buyer, item_id, 3, 1, uuid.uuid4().hex)
    assert (early.value.code, greedy.value.code, statements) == ("not_started", "limit_reached", [])
    with travel(timedelta(hours=2)), pytest.raises(ValidationError) as late:
        buying.buy(buyer, item.id, 1, 1, uuid.uuid4().hex)
    assert late.value.code == "ended"


def test_a_checkout_that_fails_after_the_lua_take_gives_the_unit_back_at_once(make_flash_sale, make_user):
    _sale, item = make_flash_sale(stock=2, limit=1)
    buyer = make_user()
    with pytest.raises(NotFound), transaction():  # an address that is not the buyer's
        buying.buy(buyer, item.id, 1, 999999, uuid.uuid4().hex)
    assert fastpath.left(_redis(), item.id) == 2 and fastpath.buyer_units(_redis(), item.id, buyer.id) == 0
    assert item_row(item.id).stock_sold == 0
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 0


def test_a_cancelled_unpaid_order_gives_its_unit_back_once_in_postgresql_and_redis(
        make_flash_sale, make_user, make_address, run_jobs):
    _sale, item = make_flash_sale(stock=2, limit=1)
    buyer = make_user()
    address = make_address(buyer)
    with transaction():
        order_no = buying.buy(buyer, item.id, 1, address.id, uuid.uuid4().hex).orders[0].order_no
    assert fastpath.left(_redis(), item.id) == 1
    with transaction():
        order_services.cancel_by_buyer(buyer.id, order_no)
    order = db.session.scalar(sa.select(Order).where(Order.order_no == order_no))
    with transaction():  # a replayed cancel (the receiver run again): nothing more
        assert services.give_back_for_cancelled(order.id) == 0
    run_jobs()
    assert redis_sync.give_back(item.id, order.id, buyer.id, 1) is False  # the Redis job replayed: once
    assert item_row(item.id).stock_sold == 0
    assert db.session.scalar(sa.select(FlashSaleBuyer.quantity).where(FlashSaleBuyer.buyer_id == buyer.id)) == 0
    assert db.session.scalar(sa.select(FlashSaleOrder.returned_at).where(FlashSaleOrder.order_id == order.id))
    assert fastpath.left(_redis(), item.id) == 2 and fastpath.buyer_units(_redis(), item.id, buyer.id) == 0
    assert sku_stock(item.sku_id) == 48  # the shelf is untouched: the unit went back to the event
    # and the buyer may buy again
    with transaction():
        buying.buy(buyer, item.id, 1, address.id, uuid.uuid4().hex)
    assert item_row(item.id).stock_sold == 1


def test_a_unit_cancelled_after_the_event_ended_goes_to_the_shelf(make_flash_sale, make_user, make_address):
    sale, item = make_flash_sale(stock=3, sku_stock=10)
    buyer = make_user()
    address = make_address(buyer)
    with transaction():
        order_no = buying.buy(buyer, item.id, 1, address.id, uuid.uuid4().hex).orders[0].order_no
    with travel(timedelta(hours=2)):
        with transaction():
            services.end_if_due(sale.id)
        assert sku_stock(item.sku_id) == 9  # 7 + the 2 unsold
        with transaction():
            order_services.cancel_by_buyer(buyer.id, order_no)
    assert sku_stock(item.sku_id) == 10 and item_row(item.id).stock_sold == 0


def test_paying_a_flash_order_takes_no_more_stock(make_flash_sale, make_user, make_address, pay_sandbox, books_hold):
    _sale, item = make_flash_sale(stock=2, sku_stock=10)
    buyer = make_user()
    address = make_address(buyer)
    with transaction():
        payment = buying.buy(buyer, item.id, 1, address.id, uuid.uuid4().hex)
    assert pay_sandbox(payment).status_code == 200
    db.session.expire_all()
    order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))
    assert (order.status, order.stock_state) == ("paid", "deducted")
    assert sku_stock(item.sku_id) == 8
