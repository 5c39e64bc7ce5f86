"""Chinese keywords of two characters (T恤, 茶叶, 台灯) find products through an index: each
product's search text as its set of two-character pieces, a stored generated column with a
GIN index (PostgreSQL only). The trigram index of 0003 needs three characters; a shorter
keyword read every visible product (app/catalog/queries.py, docs/caching.md).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite (the embedded default) searches with LIKE and no index
    op.execute("""
        CREATE FUNCTION search_bigrams(t text) RETURNS text[] IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
          SELECT coalesce(array_agg(DISTINCT substr(t, i, 2)), '{}') FROM generate_series(1, char_length(t) - 1) AS i
        $$
    """)
    op.execute("ALTER TABLE products ADD COLUMN search_bigrams text[] "
               "GENERATED ALWAYS AS (search_bigrams(lower(search_text))) STORED")
    # fastupdate off: a product's pieces go into the index as it is written, not into a pending
    # list that every search then reads through until a vacuum merges it (products are written
    # far less often than they are searched; with the list, a bulk load left the planner
    # preferring a full scan).
    op.execute("CREATE INDEX ix_products_search_bigrams ON products USING gin (search_bigrams) "
               "WITH (fastupdate = off)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_products_search_bigrams")
    op.execute("ALTER TABLE products DROP COLUMN search_bigrams")
    op.execute("DROP FUNCTION search_bigrams(text)")
