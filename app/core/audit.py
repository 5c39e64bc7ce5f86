"""The audit log: every admin action records who, when, what and what changed."""
from __future__ import annotations

from typing import Any

from app.core.models import AuditLog
from app.extensions import db


def record(actor, action: str, target, changes: dict[str, Any] | None = None, note: str | None = None) -> AuditLog:
    """Add one audit row in the caller's transaction.

    `target` is a model instance with an `id`, or a (type, id) pair.
    `changes` maps field -> [before, after].
    """
    if isinstance(target, tuple):
        target_type, target_id = target
    else:
        target_type, target_id = type(target).__name__, target.id
    row = AuditLog(
        actor_id=getattr(actor, "id", None),
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        changes=changes or {},
        note=note,
    )
    db.session.add(row)
    db.session.flush()
    return row


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Field-by-field changes between two snapshots, for `record(changes=...)`."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}
