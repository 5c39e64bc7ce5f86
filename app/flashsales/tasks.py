"""Flash-sale jobs and the minute sweep (app/cron_jobs.py). Each step is safe to run
twice; the sweep is the backstop for the scheduled start and end jobs."""
from __future__ import annotations

import logging

from redis.exceptions import RedisError

from app.core.db import each
from app.flashsales import redis_sync, services

log = logging.getLogger(__name__)


def sweep() -> int:
    """Every minute: end events whose time is up (their unsold stock back to the SKUs),
    then rewrite Redis from PostgreSQL for every event it should know."""
    ended = each(services.ended_due_ids(), services.end_if_due, "flash_sale")
    try:
        redis_sync.rebuild_live()
    except RedisError as exc:  # buying goes through PostgreSQL meanwhile; the next minute tries again
        log.warning("flash sale sweep: Redis unavailable (%s), not rebuilt", type(exc).__name__)
    return ended
