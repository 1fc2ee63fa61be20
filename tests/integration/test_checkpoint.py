"""SQLite engine: commits leave the WAL to the background checkpointer, outside the write lock;
the synchronous mode is configurable."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from bank.db import models as m
from bank.db.engine import WAL_AUTOCHECKPOINT_PAGES, Checkpointer, make_engine, write_lock
from bank.db.migrations import upgrade
from bank.db.uow import SqlAlchemyUnitOfWork

PAGE = 4096
BIG = "x" * 400_000  # ~100 pages per audit row


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[Path, Engine]]:
    path = tmp_path / "bank.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url, pool_size=1)
    yield path, engine
    engine.dispose()


def _write(engine: Engine, rows: int) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow.write():
        for _ in range(rows):
            uow.audit.record(
                action="checkpoint_test",
                outcome="success",
                now=datetime.now(UTC),
                target_id=str(uuid.uuid4()),
                details={"padding": BIG},
            )
        uow.commit()


def test_a_commit_does_not_checkpoint_and_the_checkpointer_does(
    database: tuple[Path, Engine],
) -> None:
    path, engine = database
    lock = write_lock(engine)
    checkpointer = Checkpointer(path, every=2)
    lock.checkpointer = checkpointer  # type: ignore[union-attr]
    size_before = path.stat().st_size

    _write(engine, rows=12)  # ~1,200 pages: past SQLite's default autocheckpoint (1,000)

    assert path.stat().st_size == size_before  # the pages are still only in the WAL
    assert not checkpointer.finished.is_set()

    _write(engine, rows=1)  # the second write wakes the checkpointer
    assert checkpointer.finished.wait(timeout=30)
    assert path.stat().st_size > size_before + 1_000 * PAGE
    with engine.connect() as conn:
        count = conn.execute(
            select(func.count())
            .select_from(m.audit_events)
            .where(m.audit_events.c.action == "checkpoint_test")
        ).scalar_one()
    assert count == 13


def test_commits_still_checkpoint_past_the_safety_net(database: tuple[Path, Engine]) -> None:
    """If the checkpointer cannot keep up, the WAL stays bounded by the commits themselves."""
    _, engine = database
    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
    assert pages == WAL_AUTOCHECKPOINT_PAGES


def test_in_memory_databases_have_no_checkpointer() -> None:
    engine = make_engine("sqlite://")
    try:
        assert getattr(write_lock(engine), "checkpointer", None) is None
    finally:
        engine.dispose()


@pytest.mark.parametrize(("mode", "level"), [("NORMAL", 1), ("FULL", 2)])
def test_the_synchronous_mode_is_applied_to_every_connection(
    tmp_path: Path, mode: str, level: int
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bank.db'}", sqlite_synchronous=mode)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == level
    finally:
        engine.dispose()


def test_an_unknown_synchronous_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="synchronous"):
        make_engine(f"sqlite:///{tmp_path / 'bank.db'}", sqlite_synchronous="OFF")
