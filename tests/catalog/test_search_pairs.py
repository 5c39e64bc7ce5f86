"""Two-character Chinese keywords through an index (migration 0028, PostgreSQL): each
product's search text is kept as its two-character pieces by the database itself, however
the text is written, and a search for T恤 or 茶叶 is answered from their GIN index
instead of reading every visible product, finding exactly what ILIKE finds."""
from __future__ import annotations

import sqlalchemy as sa

from app.catalog import queries
from app.catalog.models import Product
from app.extensions import db


def test_the_pieces_follow_the_text_and_the_search_finds_what_ilike_finds(make_product):
    tea = make_product(title="明前龙井 茶叶礼盒")
    shirt = make_product(title="纯棉短袖")
    cup = make_product(title="陶瓷茶杯")  # 茶 alone: not 茶叶
    # written behind the services' back, in capitals: the database keeps the pieces (lower case)
    db.session.execute(sa.update(Product).where(Product.id == shirt.id).values(search_text="纯棉短袖 T恤 夏季"))
    db.session.commit()
    pieces = db.session.scalar(sa.select(queries.SEARCH_BIGRAMS).where(Product.id == shirt.id))
    assert {"t恤", "短袖", "夏季"} <= set(pieces) and "T恤" not in pieces

    def found(q: str) -> set[int]:
        return {p.id for p in queries.search(queries.ProductFilters(q=q), 1).items}

    assert found("茶叶") == {tea.id}
    assert found("T恤") == {shirt.id}
    assert found("龙井 礼盒") == {tea.id}
    assert found("茶") == {tea.id, cup.id}  # one character: no pieces, ILIKE alone
    assert queries.bigrams("蓝牙耳机") == ["牙耳", "耳机", "蓝牙"] and queries.bigrams("茶") == []


def test_a_two_character_search_asks_for_the_pieces_and_their_index_serves_it():
    stmt = queries._listing(queries.ProductFilters(q="茶叶 礼盒 x"))
    sql = str(stmt.compile(db.engine))
    assert sql.count("products.search_bigrams @>") == 2  # one per word of two characters or more
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))  # a test catalogue is small: show the planner's hand
    plan = "\n".join(db.session.execute(sa.text(
        "EXPLAIN SELECT id FROM products WHERE search_bigrams @> ARRAY['茶叶']")).scalars())
    assert "ix_products_search_bigrams" in plan
