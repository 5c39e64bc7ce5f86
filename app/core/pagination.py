"""Pagination of list pages: a fixed number of queries whatever the page size
(one for the rows, one for the total; a `Slice` has no total and needs only the first)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.extensions import db

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
# Past this a list is read by filters, not by paging; it keeps OFFSET far inside bigint.
MAX_PAGE = 100_000


@dataclass
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int
    capped: bool = False  # more than `total` rows: the count stopped there (`count_up_to`)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def window(self, size: int = 2) -> list[int | None]:
        """Page numbers to show, with None for a gap: [1, None, 4, 5, 6, None, 12]."""
        shown: list[int | None] = []
        for n in range(1, self.pages + 1):
            if n in (1, self.pages) or abs(n - self.page) <= size:
                shown.append(n)
            elif shown and shown[-1] is not None:
                shown.append(None)
        return shown


def clamp(page: Any, per_page: Any) -> tuple[int, int]:
    """Page and page size from untrusted input (query strings): always 1..MAX_PAGE and
    1..MAX_PER_PAGE; anything that is not a whole number gives page 1 / the default size."""
    try:
        page = min(MAX_PAGE, max(1, int(page)))
    except (TypeError, ValueError):
        page = 1
    try:
        per_page = min(MAX_PER_PAGE, max(1, int(per_page)))
    except (TypeError, ValueError):
        per_page = DEFAULT_PER_PAGE
    return page, per_page


def paginate(stmt: sa.Select, page: Any = 1, per_page: Any = DEFAULT_PER_PAGE, *, scalars: bool = True,
             count_up_to: int | None = None) -> Page:
    """One page and the total. With `count_up_to`, the count reads at most that many rows
    and one more (a storefront search over a large catalogue: "2000+"), so its cost stops
    growing with the catalogue; `capped` says the total is a floor, and the pages beyond
    it are not offered."""
    page, per_page = clamp(page, per_page)
    counted = stmt.order_by(None)
    if count_up_to is not None:
        counted = counted.limit(count_up_to + 1)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(counted.subquery())) or 0
    capped = count_up_to is not None and total > count_up_to
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = list(rows.scalars().unique() if scalars else rows.all())
    return Page(items=items, page=page, per_page=per_page, total=min(total, count_up_to) if capped else total,
                capped=capped)


@dataclass
class Slice:
    """One page of a list without its total: for a list shown by scrolling (a shelf), where
    counting would read every row the list could hold just to say whether more follow."""
    items: list[Any]
    page: int
    per_page: int
    has_next: bool


def slice_of(stmt: sa.Select, page: Any = 1, per_page: Any = DEFAULT_PER_PAGE) -> Slice:
    """One query: the page's rows and one more, which only says whether a next page exists."""
    page, per_page = clamp(page, per_page)
    items = list(db.session.scalars(stmt.limit(per_page + 1).offset((page - 1) * per_page)).unique())
    return Slice(items=items[:per_page], page=page, per_page=per_page, has_next=len(items) > per_page)
