"""Distribution jobs: the settlement sweep. Each commission settles in its own
unit of work; re-running settles nothing twice (guarded UPDATE)."""
from __future__ import annotations

import logging

from app.core.db import transaction
from app.core.errors import DomainError
from app.distribution import commissions

log = logging.getLogger(__name__)


def sweep_settlement() -> int:
    """Hourly: settle pending commissions whose order was received long enough ago."""
    settled = 0
    for commission_id in commissions.due_ids():
        try:
            with transaction():
                settled += commissions.settle(commission_id)
        except DomainError:
            log.warning("settling commission %s failed", commission_id, exc_info=True)
    return settled
