"""Pages of a list (app/core/pagination.py): the total, counted in full or no further than
asked (`count_up_to`), and the page numbers offered from it."""
from __future__ import annotations

import sqlalchemy as sa

from app.core.models import AuditLog
from app.core.pagination import paginate
from app.extensions import db


def _rows(n: int) -> sa.Select:
    db.session.add_all([AuditLog(action="test.page", target_type="T", target_id=str(i), changes={})
                        for i in range(n)])
    db.session.flush()
    return sa.select(AuditLog).where(AuditLog.action == "test.page").order_by(AuditLog.id)


def test_the_count_stops_where_asked_and_says_so():
    stmt = _rows(7)
    exact = paginate(stmt, 1, 2)
    assert (exact.total, exact.capped, exact.pages, len(exact.items)) == (7, False, 4, 2)
    capped = paginate(stmt, 1, 2, count_up_to=5)
    assert (capped.total, capped.capped, capped.pages, capped.has_next) == (5, True, 3, True)
    assert [row.target_id for row in capped.items] == ["0", "1"]
    assert (paginate(stmt, 1, 2, count_up_to=7).total, paginate(stmt, 1, 2, count_up_to=7).capped) == (7, False)
    assert paginate(stmt, 1, 2, count_up_to=6).capped is True
