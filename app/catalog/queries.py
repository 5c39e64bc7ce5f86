"""What the storefront and the API list. Only on-sale products of open shops in
categories whose whole ancestry is active are visible; each list is a fixed
number of queries whatever the page size."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased, selectinload

from app.catalog import categories
from app.catalog.errors import CatalogError
from app.catalog.models import Category, Product, Sku
from app.catalog.states import ProductStatus
from app.core.clock import as_utc, utcnow
from app.core.errors import NotFound
from app.core.pagination import Page, Slice, paginate, slice_of
from app.extensions import db
from app.merchants.models import Merchant
from app.merchants.states import MerchantStatus

SORTS = ("sales", "price_asc", "price_desc", "newest")
# The storefront's list pages count their products up to here and say "2000+" past it:
# the count is most of what a broad search costs on a large catalogue (docs/caching.md),
# and nobody scrolls that far. The API counts exactly (its clients page through everything).
COUNT_UP_TO = 2000


@dataclass
class ProductFilters:
    q: str = ""
    category_id: int | None = None
    min_price_fen: int | None = None
    max_price_fen: int | None = None
    promotion: bool = False
    sort: str = "sales"
    merchant_id: int | None = None


def visible_products() -> sa.Select:
    """On sale, in an open shop, in a category whose ancestors are all active."""
    leaf, parent, grand = aliased(Category), aliased(Category), aliased(Category)
    return (
        sa.select(Product)
        .join(Merchant, Merchant.id == Product.merchant_id)
        .join(leaf, leaf.id == Product.category_id)
        .outerjoin(parent, parent.id == leaf.parent_id)
        .outerjoin(grand, grand.id == parent.parent_id)
        .where(Product.status == ProductStatus.ON_SALE, Merchant.status == MerchantStatus.ACTIVE, leaf.active,
               sa.or_(parent.id.is_(None), parent.active), sa.or_(grand.id.is_(None), grand.active))
    )


# A product's search text as its two-character pieces (PostgreSQL: a generated column with
# a GIN index, migration 0028; not mapped, so SQLite never reads it).
SEARCH_BIGRAMS = sa.literal_column("products.search_bigrams", type_=postgresql.ARRAY(sa.Text))


def bigrams(word: str) -> list[str]:
    """The two-character pieces of `word`, as the database makes them from a product's text:
    every product whose text holds `word` holds all of them."""
    return sorted({word[i:i + 2] for i in range(len(word) - 1)})


def effective_price():
    """The price a shopper pays now: the promotion price inside its window, else the price."""
    now = utcnow()
    live = sa.and_(Product.on_promotion, Product.promotion_price_fen.is_not(None),
                   Product.promotion_starts_at <= now, Product.promotion_ends_at > now)
    return sa.case((live, Product.promotion_price_fen), else_=Product.price_fen)


def _listing(filters: ProductFilters) -> sa.Select:
    """The visible products `filters` pick, in the order they ask for."""
    stmt = visible_products().options(selectinload(Product.images))
    q = (filters.q or "").strip().lower()
    if q:
        # ILIKE, served on PostgreSQL by the trigram index (three characters and more) or by
        # the two-character pieces' index (migration 0028: most Chinese keywords are two
        # characters); a plain LIKE scan on SQLite.
        indexed_pairs = db.session.get_bind().dialect.name == "postgresql"
        for word in q.split()[:5]:
            stmt = stmt.where(Product.search_text.icontains(word, autoescape=True))
            if indexed_pairs and len(word) >= 2:
                stmt = stmt.where(SEARCH_BIGRAMS.contains(bigrams(word)))
    if filters.category_id:
        stmt = stmt.where(Product.category_id.in_(categories.leaf_ids_under(filters.category_id)))
    if filters.merchant_id:
        stmt = stmt.where(Product.merchant_id == filters.merchant_id)
    price = effective_price()
    if filters.min_price_fen is not None:
        stmt = stmt.where(price >= filters.min_price_fen)
    if filters.max_price_fen is not None:
        stmt = stmt.where(price <= filters.max_price_fen)
    if filters.promotion:
        now = utcnow()
        stmt = stmt.where(Product.on_promotion, Product.promotion_starts_at <= now, Product.promotion_ends_at > now)
    order = {
        "sales": (Product.sales.desc(), Product.id.desc()),
        "price_asc": (price.asc(), Product.id.desc()),
        "price_desc": (price.desc(), Product.id.desc()),
        "newest": (Product.listed_at.desc().nulls_last(), Product.id.desc()),
    }[filters.sort if filters.sort in SORTS else "sales"]
    return stmt.order_by(*order)


def search(filters: ProductFilters, page, per_page=20, count_up_to: int | None = None) -> Page:
    """One page of the listing, with the total (for paging); with `count_up_to`, a total
    counted no further than that (`Page.capped`)."""
    return paginate(_listing(filters), page, per_page, count_up_to=count_up_to)


def shelf(filters: ProductFilters, page, per_page=20) -> Slice:
    """One page of the listing without the total (a shelf scrolled for more: home's 热销榜)."""
    return slice_of(_listing(filters), page, per_page)


def top(filters: ProductFilters, limit: int) -> list[Product]:
    """The first `limit` products of the listing, without counting the rest (a shelf
    that links to the full list: the count would scan every visible product)."""
    return list(db.session.scalars(_listing(filters).limit(limit)).unique())


def next_promotion_change(now: datetime | None = None) -> datetime | None:
    """When a promotion of an on-sale product next starts or ends (one query): until
    then, what list pages show of promotions is true by the clock alone."""
    now = now or utcnow()
    promo = sa.and_(Product.status == ProductStatus.ON_SALE, Product.on_promotion)
    starts = sa.select(sa.func.min(Product.promotion_starts_at)).where(promo, Product.promotion_starts_at > now)
    ends = sa.select(sa.func.min(Product.promotion_ends_at)).where(promo, Product.promotion_ends_at > now)
    times = [t for t in db.session.execute(sa.select(starts.scalar_subquery(), ends.scalar_subquery())).one() if t]
    return as_utc(min(times)) if times else None


def visible_product(product_id: int) -> Product:
    """A product a shopper may see and order, or NotFound (code product_unavailable)."""
    product = db.session.scalar(visible_products().where(Product.id == product_id)
                                .options(selectinload(Product.images), selectinload(Product.skus)))
    if product is None:
        raise NotFound(_("商品已下架或不存在"), code=CatalogError.PRODUCT_UNAVAILABLE)
    return product


def active_skus(product: Product) -> list[Sku]:
    return [s for s in product.skus if s.active]
