"""Prepared statements store and read exactly what Connection.execute does, on both databases,
and fail the same way (so the unit of work's error translation still applies)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, bindparam, func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from bank.db import models as m
from bank.db import repositories as r
from bank.db.engine import make_engine
from bank.db.prepared import Prepared
from bank.db.uow import DuplicateKey, _translate
from bank.domain import model
from tests.integration.test_pool import _terminate

AUDIT_INSERT = Prepared.insert_every_column(m.audit_events)
_a = m.audit_events.c
AUDIT_READ = Prepared(
    select(_a.id, _a.created_at, _a.user_id, _a.details, _a.outcome).where(
        _a.action == bindparam("p_action"), _a.outcome == "success"
    )
)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url, pool_size=1)
    yield engine
    engine.dispose()


def _event(action: str, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "created_at": datetime(2026, 11, 28, 10, 30, 15, 123456, tzinfo=UTC),
        "action": action,
        "outcome": "success",
        "user_id": uuid.uuid4(),
        "token_jti": "jti-1",
        "request_id": None,
        "client_ip": "203.0.113.9",
        "target_type": "transfer",
        "target_id": "t-1",
        "details": {"amount": 125, "note": "caf\u00e9"},
    }
    values.update(overrides)
    return values


def test_a_prepared_insert_stores_what_core_stores(engine: Engine) -> None:
    action = f"prepared-{uuid.uuid4().hex[:8]}"
    by_core = _event(action, target_id="core")
    by_prepared = _event(action, target_id="prepared", user_id=by_core["user_id"])
    with engine.begin() as conn:
        conn.execute(insert(m.audit_events), by_core)
        AUDIT_INSERT.run(conn, by_prepared)
        core_row, prepared_row = conn.execute(
            text("SELECT * FROM audit_events WHERE action = :action ORDER BY target_id"),
            {"action": action},
        ).all()
    # The same representation in the database (text timestamps and hex UUIDs on SQLite).
    core, prepared = core_row._asdict(), prepared_row._asdict()
    assert type(prepared.pop("id")) is type(core.pop("id"))
    assert (prepared.pop("target_id"), core.pop("target_id")) == ("prepared", "core")
    assert prepared == core


def test_prepared_rows_are_processed_like_core(engine: Engine) -> None:
    action = f"read-{uuid.uuid4().hex[:8]}"
    event = _event(action, user_id=None)
    with engine.begin() as conn:
        AUDIT_INSERT.run(conn, event)
        (row,) = AUDIT_READ.rows(conn, {"p_action": action})
        core = conn.execute(AUDIT_READ.statement, {"p_action": action}).one()
    assert row == tuple(core)
    assert row == (event["id"], event["created_at"], None, event["details"], "success")
    assert isinstance(row[0], uuid.UUID)
    assert row[1].tzinfo is not None


def test_a_unique_violation_is_a_dbapi_error_the_unit_of_work_translates(engine: Engine) -> None:
    event = _event("duplicate")
    with engine.connect() as conn:
        conn.begin()
        AUDIT_INSERT.run(conn, event)
        # Both drivers raise at the statement, before COMMIT is reached.
        with pytest.raises(IntegrityError) as raised:
            AUDIT_INSERT.run(conn, event)
            conn.commit()
    assert isinstance(_translate(raised.value), DuplicateKey)


def test_a_failing_statement_leaves_nothing_of_its_transaction(engine: Engine) -> None:
    action = f"atomic-{uuid.uuid4().hex[:8]}"
    first, clash = _event(action), _event(action)
    with engine.begin() as conn:
        AUDIT_INSERT.run(conn, clash)
    with engine.connect() as conn, pytest.raises(IntegrityError):
        conn.begin()
        AUDIT_INSERT.run(conn, first)
        AUDIT_INSERT.run(conn, clash)
        AUDIT_INSERT.run(conn, _event(action))
        conn.commit()
    # Back from the pool (pool_size=1: the same connection), only the row committed before.
    with engine.connect() as conn:
        assert [row[0] for row in AUDIT_READ.rows(conn, {"p_action": action})] == [clash["id"]]


def test_core_statements_see_what_prepared_ones_wrote(engine: Engine) -> None:
    action = f"mixed-{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        AUDIT_INSERT.run(conn, _event(action))
        count = conn.execute(
            select(func.count()).select_from(m.audit_events).where(_a.action == action)
        ).scalar_one()
        AUDIT_INSERT.run(conn, _event(action))
    assert count == 1
    with engine.connect() as conn:
        assert len(AUDIT_READ.rows(conn, {"p_action": action})) == 2


def test_a_batch_goes_in_in_one_call_and_fails_as_a_whole(engine: Engine) -> None:
    action = f"many-{uuid.uuid4().hex[:8]}"
    events = [_event(action), _event(action)]
    with engine.begin() as conn:
        AUDIT_INSERT.run_many(conn, events)
        assert len(AUDIT_READ.rows(conn, {"p_action": action})) == 2
    with engine.connect() as conn, pytest.raises(IntegrityError):
        conn.begin()
        AUDIT_INSERT.run_many(conn, [_event(action), events[0]])
        conn.commit()
    with engine.connect() as conn:
        assert len(AUDIT_READ.rows(conn, {"p_action": action})) == 2


def test_a_lost_connection_invalidates_it(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.begin()
        if engine.dialect.name == "postgresql":
            _terminate(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        else:
            conn.connection.dbapi_connection.close()  # type: ignore[union-attr]
        with pytest.raises(DBAPIError) as raised:
            AUDIT_READ.rows(conn, {"p_action": "anything"})
        assert raised.value.connection_invalidated
        assert conn.invalidated
    with engine.connect() as conn:  # the pool hands out a working connection again
        assert AUDIT_READ.rows(conn, {"p_action": "nothing-like-it"}) == []


def test_an_insert_without_a_value_for_every_column_is_refused(engine: Engine) -> None:
    event = _event("incomplete")
    del event["client_ip"]
    with engine.connect() as conn, pytest.raises(KeyError, match="client_ip"):
        AUDIT_INSERT.run(conn, event)


def test_expanding_parameters_are_refused(engine: Engine) -> None:
    query = Prepared(select(_a.id).where(_a.action.in_(bindparam("p_actions", expanding=True))))
    with engine.connect() as conn, pytest.raises(ValueError, match="p_actions"):
        query.rows(conn, {"p_actions": ["a", "b"]})


def test_repository_columns_follow_the_dataclass_fields() -> None:
    """Prepared rows are tuples: the repositories build models from them by position."""
    for columns, model_type in (
        (r.ACCOUNT_COLUMNS, model.Account),
        (r.TRANSACTION_COLUMNS, model.Transaction),
        (r.TRANSFER_COLUMNS, model.Transfer),
    ):
        assert [c.name for c in columns] == [f.name for f in fields(model_type)]
    assert [f.name for f in fields(r.Posting)] == ["balance", "seq", "credited_total", "posted_at"]
    assert [f.name for f in fields(r.LedgerPosition)] == ["balance", "credited_total", "seq"]
