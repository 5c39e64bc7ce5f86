"""Reading the products bought together: the product page's 经常一起买, the platform's
rules table and a shop's own rules. Each is a fixed number of queries whatever the
number of rules or the page size."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from app.analytics.models import ProductRule, RuleRun
from app.analytics.recompute import PLATFORM
from app.catalog.models import Product
from app.catalog.queries import visible_products
from app.core.pagination import Page, paginate
from app.extensions import db
from app.merchants.models import Merchant

SHOWN_ON_PRODUCT_PAGE = 4
# ?sort= of the rules tables -> order (a bounded whitelist; anything else is "lift").
SORTS = {
    "lift": (ProductRule.lift_bp.desc(), ProductRule.confidence_bp.desc(), ProductRule.support_bp.desc()),
    "confidence": (ProductRule.confidence_bp.desc(), ProductRule.lift_bp.desc(), ProductRule.support_bp.desc()),
    "support": (ProductRule.support_bp.desc(), ProductRule.lift_bp.desc(), ProductRule.confidence_bp.desc()),
}
DEFAULT_SORT = "lift"


def pick_sort(raw: str | None) -> str:
    return raw if raw in SORTS else DEFAULT_SORT


def bought_together(product_id: int, limit: int = SHOWN_ON_PRODUCT_PAGE) -> list[Product]:
    """Up to `limit` products the platform's rules suggest with `product_id`, strongest
    first (lift, then confidence), only those a shopper may see and order now (on sale, in
    an open shop and an active category: the catalogue's own `visible_products`).
    Two queries (the products, their images)."""
    stmt = (visible_products()
            .join(ProductRule, ProductRule.consequent_id == Product.id)
            .where(ProductRule.scope_id == PLATFORM, ProductRule.antecedent_id == product_id)
            .order_by(*SORTS["lift"], Product.id)
            .limit(limit)
            .options(selectinload(Product.images)))
    return list(db.session.scalars(stmt))


@dataclass
class RuleRow:
    """One rule of a table, with what the page shows of its two products."""

    rule: ProductRule
    antecedent: Product
    consequent: Product


def platform_rules(scope_id: int, sort: str, page, per_page=20) -> Page:
    """A page of one scope's rules for the platform's table (`scope_id`: 0 for the
    platform's, a shop's id for that shop's), with both products and their shops."""
    return _rules(scope_id, sort, page, per_page)


def shop_rules(merchant_id: int, sort: str, page, per_page=20) -> Page:
    """A page of the shop's own rules: mined from its orders, and only ever between its
    own products (checked here as well, so nothing of another shop can show)."""
    return _rules(merchant_id, sort, page, per_page, only_merchant=merchant_id)


def _rules(scope_id: int, sort: str, page, per_page, only_merchant: int | None = None) -> Page:
    first, second = aliased(Product), aliased(Product)
    stmt = (sa.select(ProductRule, first, second)
            .join(first, first.id == ProductRule.antecedent_id)
            .join(second, second.id == ProductRule.consequent_id)
            .where(ProductRule.scope_id == scope_id)
            .order_by(*SORTS[pick_sort(sort)], ProductRule.id))
    if only_merchant is not None:
        stmt = stmt.where(first.merchant_id == only_merchant, second.merchant_id == only_merchant)
    result = paginate(stmt, page, per_page, scalars=False)
    result.items = [RuleRow(rule, a, c) for rule, a, c in result.items]
    return result


def last_run(scope_id: int) -> RuleRun | None:
    return db.session.get(RuleRun, scope_id)


def scopes_with_runs() -> list[tuple[int, str]]:
    """The shops that have had their rules computed, (id, name) by name: the admin's scope filter."""
    return [tuple(row) for row in db.session.execute(
        sa.select(Merchant.id, Merchant.name).join(RuleRun, RuleRun.scope_id == Merchant.id).order_by(Merchant.name))]
