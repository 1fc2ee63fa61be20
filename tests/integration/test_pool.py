"""The PostgreSQL pool pings only connections that sat idle, and replaces dead ones."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bank.db.engine import make_engine
from tests.conftest import PG_ADMIN_URL, PostgresDatabases


def _terminate(pid: int) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        gone = False
        for _ in range(500):  # wait until the backend has really exited (bounded)
            alive = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar_one()
            if not alive:
                gone = True
                break
        assert gone, "the backend did not exit"
    admin.dispose()


@pytest.mark.parametrize(("ping_after_idle", "survives"), [(0.0, True), (3600.0, False)])
def test_a_connection_killed_while_idle_is_replaced_only_when_pinged(
    pg_databases: PostgresDatabases, ping_after_idle: float, survives: bool
) -> None:
    engine = make_engine(pg_databases.create(), pool_size=1, ping_after_idle=ping_after_idle)
    with engine.connect() as conn:
        first_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    _terminate(first_pid)

    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    except OperationalError:
        pid = None
    finally:
        engine.dispose()

    if survives:
        assert pid is not None and pid != first_pid
    else:  # a connection in use is not pinged: the failure surfaces (the API answers 503)
        assert pid is None
