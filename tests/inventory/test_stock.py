"""The stock service: conditional UPDATEs, all-or-nothing reservations, movements, races."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.catalog.models import Sku
from app.core.db import transaction
from app.core.errors import Conflict, ValidationError
from app.extensions import db
from app.inventory import services as stock
from app.inventory.models import StockMovement
from tests.race import at_once


def sku_stock(sku_id):
    return db.session.scalar(sa.select(Sku.stock).where(Sku.id == sku_id))


def test_reserve_and_release_write_movements(make_product):
    product = make_product(stocks=(10, 4))
    a, b = (s.id for s in product.skus)
    with transaction():
        after = stock.reserve([(b, 1), (a, 3), (b, 2)], ref=("order", "202611240001"))
    assert after == {a: 7, b: 1}
    with transaction():
        stock.release([(a, 3)], ref=("order", "202611240001"))
    assert sku_stock(a) == 10
    moves = db.session.scalars(sa.select(StockMovement).order_by(StockMovement.id)).all()
    assert [(m.sku_id, m.delta, m.stock_after, m.reason) for m in moves] == [
        (a, -3, 7, "order_reserve"), (b, -3, 1, "order_reserve"), (a, 3, 10, "order_release")]
    assert moves[0].ref_type == "order" and moves[0].ref_id == "202611240001"


def test_a_short_sku_fails_the_whole_reservation_and_names_every_short_one(make_product):
    product = make_product(stocks=(10, 2, 1))
    a, b, c = (s.id for s in product.skus)
    with pytest.raises(stock.OutOfStock) as err, transaction():
        stock.reserve([(a, 5), (b, 3), (c, 2)])
    assert {(s.sku_id, s.wanted, s.available) for s in err.value.shortfalls} == {(b, 3, 2), (c, 2, 1)}
    assert err.value.code == "out_of_stock"
    assert (sku_stock(a), sku_stock(b), sku_stock(c)) == (10, 2, 1)
    assert db.session.scalar(sa.select(sa.func.count(StockMovement.id))) == 0


def test_bad_quantities_are_refused(make_product):
    sku_id = make_product().skus[0].id
    for quantity in (0, -1):
        with pytest.raises(ValidationError), transaction():
            stock.reserve([(sku_id, quantity)])
    with pytest.raises(ValidationError), transaction():
        stock.set_stock(sku_id, -5, None, "盘点")
    with pytest.raises(stock.OutOfStock), transaction():
        stock.adjust(sku_id, -11, None, "报损")
    assert sku_stock(sku_id) == 10


def test_adjust_and_set(make_product):
    sku_id = make_product().skus[0].id
    with transaction():
        assert stock.adjust(sku_id, 5, None, "到货") == 15
        assert stock.set_stock(sku_id, 3, None, "盘点") == 3
    with pytest.raises(Conflict), transaction():
        stock.set_stock(sku_id, 8, None, "盘点", expected=15)  # the editor saw an old number
    deltas = db.session.scalars(sa.select(StockMovement.delta).where(StockMovement.sku_id == sku_id)
                                .order_by(StockMovement.id)).all()
    assert deltas == [5, -12]


def test_the_database_refuses_negative_stock_even_around_the_service(make_product):
    sku_id = make_product().skus[0].id
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(sa.update(Sku).where(Sku.id == sku_id).values(stock=-1))
    db.session.rollback()


@pytest.mark.live_db
def test_fifty_buyers_race_for_ten_units(app, make_product):
    sku_id = make_product(stocks=(10,)).skus[0].id
    db.session.remove()

    def buy(i):
        try:
            with transaction():
                stock.reserve([(sku_id, 1)], ref=("order", f"race-{i}"))
            return "reserved"
        except stock.OutOfStock:
            return "sold_out"

    outcomes = at_once(50, buy, app=app)
    assert outcomes.count("reserved") == 10 and outcomes.count("sold_out") == 40
    assert sku_stock(sku_id) == 0
    moves = db.session.scalars(sa.select(StockMovement.stock_after).where(StockMovement.sku_id == sku_id)).all()
    assert sorted(moves) == list(range(10))  # every unit accounted for, each stock level once
