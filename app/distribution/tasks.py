"""Distribution jobs: the settlement sweep. Each commission settles in its own
unit of work (`app.core.db.each`); re-running settles nothing twice (the settle
act only moves a pending commission)."""
from __future__ import annotations

from app.core.db import each
from app.distribution import commissions


def sweep_settlement() -> int:
    """Hourly: settle pending commissions whose order was received long enough ago."""
    return each(commissions.due_ids(), commissions.settle, "commission")
