"""Every transition table, walked: each act from each state of its lifecycle.

For every lifecycle the app declares (`app.core.lifecycle.declared()`), one real row
is made by the factories (one module per domain in `tests/core/lifecycle_rows/`); for
every (state, act) pair the row is put in that state and the act is tried through `move`. It succeeds exactly when the table lists the state as
one of the act's sources: the row then holds the act's target and one timeline row
(from, to, actor) was written; otherwise StaleState names the act and the state found,
and nothing changed. A lifecycle without a row maker here fails the test, so a new
table cannot go unwalked.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app import models  # noqa: F401  (every states module imported: every lifecycle declared)
from app.core.errors import StaleState
from app.core.lifecycle import declared, move
from app.core.models import StateChange
from app.extensions import db
from tests.core.lifecycle_rows import load_all

ROW_MAKERS = load_all()


def timeline_rows(model, row_id: int, lifecycle) -> int:
    """How many timeline rows the row has: its own event table when it has one, else StateChange."""
    count_for = getattr(model, "timeline_count", None)
    if count_for is not None:
        return count_for(row_id)
    return db.session.scalar(sa.select(sa.func.count()).select_from(StateChange).where(
        StateChange.entity == lifecycle.name, StateChange.column == lifecycle.column,
        StateChange.entity_id == row_id))

# --- the walk ---------------------------------------------------------------------------------

LIFECYCLES = {f"{lc.name}.{lc.column}": lc for lc in declared()}


def test_every_declared_lifecycle_is_walked():
    assert sorted(lc.name for lc in LIFECYCLES.values()) == sorted(ROW_MAKERS)


@pytest.mark.parametrize("key", sorted(LIFECYCLES))
def test_each_act_moves_exactly_from_the_states_its_table_allows(key, request, make_user):
    lifecycle = LIFECYCLES[key]
    model, row_id = ROW_MAKERS[lifecycle.name](request)
    actor = make_user()
    column = getattr(model, lifecycle.column)

    def put(state: str) -> None:
        db.session.execute(sa.update(model).where(model.id == row_id).values({lifecycle.column: state})
                           .execution_options(synchronize_session=False))

    def state() -> str:
        return db.session.scalar(sa.select(column).where(model.id == row_id))

    for act_name, transition in lifecycle.transitions.items():
        for start in lifecycle.states:
            put(start)
            before = timeline_rows(model, row_id, lifecycle)
            if start in transition.sources:
                assert move(lifecycle, model, row_id, act_name, actor_id=actor.id, note="walk") == start
                assert state() == transition.target, (act_name, start)
                assert timeline_rows(model, row_id, lifecycle) == before + 1, (act_name, start)
            else:
                with pytest.raises(StaleState) as refused:
                    move(lifecycle, model, row_id, act_name, actor_id=actor.id)
                assert (refused.value.act, refused.value.found) == (act_name, start)
                assert state() == start and timeline_rows(model, row_id, lifecycle) == before, (act_name, start)


def test_the_timeline_row_says_who_moved_what_from_where(request, make_user):
    lifecycle = LIFECYCLES["withdrawal.status"]
    model, row_id = ROW_MAKERS["withdrawal"](request)
    actor = make_user()
    move(lifecycle, model, row_id, "approve", actor_id=actor.id, note="ok")
    row = db.session.scalar(sa.select(StateChange).where(StateChange.entity == "withdrawal",
                                                         StateChange.entity_id == row_id))
    assert (row.from_state, row.to_state, row.actor_id, row.note) == ("requested", "approved", actor.id, "ok")


def test_a_lost_race_is_stale_even_from_an_allowed_state(request):
    """The UPDATE names the state that was read: a row moved meanwhile (here by a plain
    UPDATE standing in for the other transaction) is refused, not moved twice."""
    lifecycle = LIFECYCLES["withdrawal.status"]
    model, row_id = ROW_MAKERS["withdrawal"](request)
    found = []

    def sneak(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE WITHDRAWALS") and not found:
            found.append(True)
            cursor.execute(f"UPDATE withdrawals SET status = 'rejected' WHERE id = {int(row_id)}")

    sa.event.listen(db.engine, "before_cursor_execute", sneak)
    try:
        with pytest.raises(StaleState):
            move(lifecycle, model, row_id, "approve")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", sneak)
    assert db.session.scalar(sa.select(model.status).where(model.id == row_id)) == "rejected"
