"""Computing the products bought together: paid baskets (`baskets`) mined into rules
(`rules`) and stored per scope (a shop's id, or 0 for the platform).

Guarantees:
- `store_scope` replaces a scope's rules whole: it deletes the old rows and inserts the
  new ones in the caller's transaction, so a reader sees the old set or the new one,
  never half of either. It first upserts the scope's `RuleRun` row, which locks it on
  PostgreSQL: two recomputes of a scope at once (the nightly run and a button) take
  turns instead of colliding on the unique key.
- Idempotent: the same orders and settings give the same rows (and the same run figures
  but the time).
- A scope that no longer has enough baskets loses its old rules (its run says 0).
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.analytics import baskets as basket_source
from app.analytics.models import ProductRule, RuleRun
from app.analytics.rules import MinedRule, Thresholds, mine
from app.core.clock import utcnow
from app.core.db import upsert
from app.extensions import db

PLATFORM = 0  # the scope of rules mined from whole checkouts


@dataclass
class ScopeResult:
    scope_id: int
    baskets: int
    rules: list[MinedRule]
    duration_ms: int


def since(thresholds: Thresholds, now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=thresholds.lookback_days)


def mine_scopes(thresholds: Thresholds, merchant_id: int | None = None) -> Iterator[ScopeResult]:
    """Mine every scope (the platform, each shop with orders in the window or rules from
    before), or only the shop `merchant_id`. Reads only; yields one scope at a time."""
    found = basket_source.paid_baskets(since(thresholds), merchant_id)
    if merchant_id is not None:
        yield _mine(merchant_id, found.shops.get(merchant_id, []), thresholds)
        return
    yield _mine(PLATFORM, found.platform, thresholds)
    before = set(db.session.scalars(sa.select(RuleRun.scope_id).where(RuleRun.scope_id != PLATFORM)))
    for shop_id in sorted(set(found.shops) | before):
        yield _mine(shop_id, found.shops.get(shop_id, []), thresholds)


def _mine(scope_id: int, scope_baskets: list[frozenset[int]], thresholds: Thresholds) -> ScopeResult:
    started = time.monotonic()
    mined = mine(scope_baskets, thresholds)
    return ScopeResult(scope_id, len(scope_baskets), mined, int((time.monotonic() - started) * 1000))


def store_scope(result: ScopeResult, thresholds: Thresholds) -> RuleRun:
    """Replace the scope's rules with `result` and record the run (flushes)."""
    now = utcnow()
    run = {"computed_at": now, "baskets": result.baskets, "rules": len(result.rules),
           "duration_ms": result.duration_ms, "thresholds": thresholds.as_dict()}
    stmt = upsert(RuleRun).values(scope_id=result.scope_id, **run)
    db.session.execute(stmt.on_conflict_do_update(index_elements=["scope_id"], set_=run))
    db.session.execute(sa.delete(ProductRule).where(ProductRule.scope_id == result.scope_id))
    if result.rules:
        db.session.execute(sa.insert(ProductRule), [{
            "scope_id": result.scope_id, "antecedent_id": r.antecedent_id, "consequent_id": r.consequent_id,
            "support_bp": r.support_bp, "confidence_bp": r.confidence_bp, "lift_bp": r.lift_bp,
            "baskets": r.baskets, "both_baskets": r.both, "antecedent_baskets": r.antecedent,
            "consequent_baskets": r.consequent, "computed_at": now,
        } for r in result.rules])
    db.session.flush()
    # the run was written past the ORM: read it afresh
    return db.session.get(RuleRun, result.scope_id, populate_existing=True)

