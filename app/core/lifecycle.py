"""The one way a stateful entity changes state.

Each domain's `states.py` declares a `Lifecycle`: the named acts (`ship`, `approve`,
`settle`...) that move a status column, each from the states it may start in to the
state it ends in. `move` makes one act happen to one row:

- it reads the row's current state and refuses an act the table does not allow from
  there (`StaleState`, naming the act and the state found);
- it writes the new state with a guarded UPDATE (`... WHERE id = :id AND status =
  :found`) whose row count is checked, so of two racing requests exactly one wins and
  the other gets `StaleState` too;
- it writes the timeline row (who, when, from, to, note) in the same transaction: the
  model's own event table when it has one (`timeline_row`), else a `StateChange` row.

"What may happen to this row now" is `Lifecycle.acts_from(state)`; the domains'
policies narrow that by who is asking. Services flush only; the caller commits.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from app.core.errors import StaleState
from app.core.models import StateChange
from app.extensions import db

NOTE_MAX = 200
_DECLARED: dict[str, Lifecycle] = {}


@dataclass(frozen=True)
class Transition:
    """One act: from any of `sources` to `target`."""

    act: str
    sources: frozenset[str]
    target: str


def act(name: str, sources: str | Iterable[str], target: str) -> Transition:
    """A table line, e.g. `act("ship", OrderStatus.PAID, OrderStatus.SHIPPED)`."""
    sources = (sources,) if isinstance(sources, str) else tuple(sources)
    return Transition(name, frozenset(str(s) for s in sources), str(target))


class Lifecycle:
    """The transition table of one status column (`column`) of one kind of entity (`name`)."""

    def __init__(self, name: str, states: Iterable[str], transitions: Iterable[Transition], *,
                 column: str = "status") -> None:
        self.name, self.column = name, column
        self.states = tuple(str(s) for s in states)
        self.transitions = {t.act: t for t in transitions}
        for t in self.transitions.values():
            unknown = (t.sources | {t.target}) - set(self.states)
            if unknown:
                raise ValueError(f"{name}.{t.act} names unknown states {sorted(unknown)}")
        _DECLARED[f"{name}.{column}"] = self

    def transition(self, act_name: str) -> Transition:
        try:
            return self.transitions[act_name]
        except KeyError:
            raise ValueError(f"{self.name} has no act {act_name!r}") from None

    def allows(self, act_name: str, state: str | None) -> bool:
        return state in self.transition(act_name).sources

    def acts_from(self, state: str | None) -> tuple[str, ...]:
        """The acts the table allows from `state`, in table order."""
        return tuple(a for a, t in self.transitions.items() if state in t.sources)

    def sources_of(self, target: str) -> frozenset[str]:
        """Every state some act leads from into `target` (for queries such as 'could still become paid')."""
        return frozenset().union(*(t.sources for t in self.transitions.values() if t.target == target))

    def moves(self) -> set[tuple[str, str]]:
        """Every (from, to) pair some act makes."""
        return {(s, t.target) for t in self.transitions.values() for s in t.sources}

    def __repr__(self) -> str:
        return f"<Lifecycle {self.name}.{self.column}: {len(self.transitions)} acts>"


def declared() -> tuple[Lifecycle, ...]:
    """Every lifecycle the imported `states` modules declare (the test walks each one)."""
    return tuple(_DECLARED.values())


def move(lifecycle: Lifecycle, model, row_id: int, act_name: str, *, actor_id: int | None = None,
         note: str | None = None, values: dict | None = None, only_from: Iterable[str] | None = None) -> str:
    """Make `act_name` happen to row `row_id` of `model`; returns the state it left.

    `values` are written in the same UPDATE (e.g. `paid_at`). `only_from` narrows the
    table's sources for callers that mean one starting state only. Raises StaleState
    (with `.act`, `.found`) when the row is in a state the act does not start from,
    or another transaction moved it first. Flushes; expires the row so it is re-read."""
    transition = lifecycle.transition(act_name)
    sources = transition.sources if only_from is None else transition.sources & {str(s) for s in only_from}
    column = getattr(model, lifecycle.column)
    found = db.session.scalar(sa.select(column).where(model.id == row_id))
    if found not in sources:
        raise StaleState(_("状态已变化，请刷新后重试"), act=act_name, found=found, lifecycle=lifecycle.name)
    moved = db.session.execute(
        sa.update(model).where(model.id == row_id, column == found)
        .values({lifecycle.column: transition.target, **(values or {})})
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise StaleState(_("状态已变化，请刷新后重试"), act=act_name, found=found, lifecycle=lifecycle.name)
    note = (note or None) and note[:NOTE_MAX]
    timeline_row = getattr(model, "timeline_row", None)
    if timeline_row is not None:
        event = timeline_row(row_id, found, transition.target, actor_id, note)
    else:
        event = _state_change(lifecycle, row_id, found, transition.target, actor_id, note)
    db.session.add(event)
    db.session.flush()
    row = db.session.identity_map.get(sa.inspect(model).identity_key_from_primary_key((row_id,)))
    if row is not None:
        db.session.expire(row)
    return found


def try_move(lifecycle: Lifecycle, model, row_id: int, act_name: str, **kwargs) -> bool:
    """`move`, answering False instead of raising when the act does not apply (any more).
    For effects that must happen exactly once: only the caller that moved the row does them."""
    try:
        move(lifecycle, model, row_id, act_name, **kwargs)
    except StaleState:
        return False
    return True


def _state_change(lifecycle: Lifecycle, row_id: int, from_state: str | None, to_state: str,
                  actor_id: int | None, note: str | None) -> StateChange:
    return StateChange(entity=lifecycle.name, column=lifecycle.column, entity_id=row_id, from_state=from_state,
                       to_state=to_state, actor_id=actor_id, note=note)
