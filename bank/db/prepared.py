"""The money path's statements, compiled once per dialect and run on the driver's cursor.

`Connection.execute` costs ~25 us of Python per statement before the driver sees it (cache
key, execution context, event dispatch, result wrapping), about as much as SQLite's own work
for these one-row statements, and a SQLite write runs it inside the write lock that every
worker waits on. A `Prepared` statement is an ordinary Core statement compiled once per
dialect, with the same SQL text and the same bind and result type processing as
`Connection.execute`, executed on the cursor of the Connection's current transaction.
Driver errors are raised as SQLAlchemy's `DBAPIError` (and a lost connection invalidates the
Connection), so the unit of work translates them exactly as it does for `Connection.execute`.

Only statements without Python-side column defaults, expanding parameters or execution
options qualify; everything else keeps using `Connection.execute`.

Held INSERTs (PostgreSQL). A write transaction's append-only rows (ledger rows, the transfer, the
audit event, the stored idempotent response) are INSERTs nothing needs an answer from, and each
one costs a round trip (~0.1 ms of CPU between psycopg and the server, more in waiting). Inside
a transaction that holds them (`hold_inserts`, set by the unit of work), `Prepared.insert_later`
checks and converts the row at once (a missing column is a KeyError there and then) but only
queues it; `send_held` sends everything queued as ONE statement (a chain of data-modifying CTEs,
consecutive rows of one table as one multi-row INSERT) before the transaction's next statement,
Prepared or Core, and before its COMMIT. A failing row fails that statement, and so the
transaction, as it would have failed on its own; a transaction that ends without COMMIT drops
the queue (`drop_held`) unsent. SQLite has no round trips to save: its rows run when called.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.selectable import ReturnsRows

Processor = Callable[[Any], Any] | None
_REQUIRED = object()


@dataclass(frozen=True, slots=True, eq=False)  # compared and hashed by identity
class _Plan:
    sql: str
    positional: bool
    # Per bind, in the order the driver takes them: (name, fixed value or _REQUIRED, processor).
    binds: tuple[tuple[str, Any, Processor], ...]
    returns_rows: bool
    # Result column processors; empty when no column needs one.
    results: tuple[Processor, ...]


class Prepared:
    """A Core statement compiled once per dialect; see the module docstring."""

    __slots__ = ("_column_keys", "_holdable", "_plans", "statement")

    def __init__(self, statement: ReturnsRows, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self._column_keys = list(column_keys) if column_keys is not None else None
        self._plans: dict[tuple[str, str], _Plan] = {}
        # An INSERT without RETURNING: the only kind `insert_later` takes.
        self._holdable = bool(getattr(statement, "is_insert", False)) and not list(
            statement.exported_columns
        )

    @classmethod
    def insert_every_column(cls, table: Table) -> Prepared:
        """An INSERT that takes a value for every column of `table` (a missing one is a KeyError,
        never a silent default)."""
        return cls(insert(table), [column.key for column in table.columns])

    def _plan(self, dialect: Dialect) -> _Plan:
        key = (dialect.name, dialect.driver)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._compile(dialect)
        return plan

    def _compile(self, dialect: Dialect) -> _Plan:
        compiled = self.statement.compile(dialect=dialect, column_keys=self._column_keys)
        names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.binds)
        binds = []
        for name in names:
            bind = compiled.binds[name]
            if bind.expanding or bind.callable is not None:
                raise ValueError(f"{name}: expanding or callable parameters are not supported")
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.required:
                binds.append((name, _REQUIRED, processor))
            else:
                fixed = bind.value if processor is None else processor(bind.value)
                binds.append((name, fixed, None))
        columns = list(self.statement.exported_columns)
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )
        if not any(results):
            results = ()
        return _Plan(compiled.string, compiled.positional, tuple(binds), bool(columns), results)

    @staticmethod
    def _ordered(plan: _Plan, values: Mapping[str, Any]) -> list[Any]:
        """The bind values in the plan's order, converted for the driver."""
        params = []
        for name, fixed, processor in plan.binds:
            value = values[name] if fixed is _REQUIRED else fixed
            params.append(value if processor is None or value is None else processor(value))
        return params

    def _parameters(self, plan: _Plan, values: Mapping[str, Any]) -> Any:
        params = self._ordered(plan, values)
        if plan.positional:
            return params
        return {name: value for (name, _, _), value in zip(plan.binds, params, strict=True)}

    def insert_later(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """INSERT `rows`: at once, or, in a transaction that holds INSERTs, queued to go with
        its other held rows before its next statement or COMMIT (see the module docstring)."""
        if not self._holdable:
            raise ValueError("only an INSERT without RETURNING can be held")
        if not rows:
            return
        held = _queue(conn)
        if held is None:
            if len(rows) == 1:
                self.run(conn, rows[0])
            else:
                self.run_many(conn, rows)
            return
        plan = self._plan(conn.dialect)
        _values_clause(plan)  # refuses an INSERT ... SELECT now, not when it is sent
        converted = [self._ordered(plan, values) for values in rows]
        if held and held[-1].plan is plan:
            held[-1].rows.extend(converted)
        else:
            held.append(_Held(plan, converted))

    def rows(self, conn: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run the statement; its rows (RETURNING or SELECT), processed like Core's."""
        send_held(conn)
        plan = self._plan(conn.dialect)
        fetched = _call(conn, plan.sql, self._parameters(plan, values), fetch=plan.returns_rows)
        return _processed(plan, fetched)

    def driver_call(self, dialect: Dialect, values: Mapping[str, Any]) -> tuple[str, Any]:
        """(SQL, parameters) as `rows` hands them to the driver, for a caller that runs them
        on a connection of its own (bank/db/async_pool.py)."""
        plan = self._plan(dialect)
        return plan.sql, self._parameters(plan, values)

    def late_call(
        self, dialect: Dialect, values: Mapping[str, Any], late: Sequence[str]
    ) -> tuple[str, list[Any], tuple[int, ...]]:
        """As `driver_call`, for a driver with positional parameters (SQLite), leaving the
        `late` names None: (SQL, parameters, their positions in `late`'s order), for a caller
        that converts everything else now and puts values already in the driver's form (a
        RETURNING column, a JSON text) into those positions later."""
        plan = self._plan(dialect)
        if not plan.positional:
            raise ValueError("late parameters need a driver with positional parameters")
        params = self._ordered(plan, {**values, **dict.fromkeys(late)})
        names = [name for name, _, _ in plan.binds]
        return plan.sql, params, tuple(names.index(name) for name in late)

    def processed(self, dialect: Dialect, fetched: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Rows the driver returned for `driver_call`'s statement, processed as `rows` does."""
        return _processed(self._plan(dialect), fetched)

    def run(self, conn: Connection, values: Mapping[str, Any]) -> None:
        """Run a statement that returns no rows."""
        self.rows(conn, values)

    def first(self, conn: Connection, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        found = self.rows(conn, values)
        return found[0] if found else None

    def run_many(self, conn: Connection, many: Iterable[Mapping[str, Any]]) -> None:
        """Run the statement once per parameter set, in one driver call."""
        send_held(conn)
        plan = self._plan(conn.dialect)
        _call(conn, plan.sql, [self._parameters(plan, values) for values in many], many=True)


def _processed(plan: _Plan, fetched: Sequence[Any]) -> list[tuple[Any, ...]]:
    if not plan.results:
        return [tuple(row) for row in fetched]
    return [
        tuple(
            value if processor is None or value is None else processor(value)
            for processor, value in zip(plan.results, row, strict=True)
        )
        for row in fetched
    ]


_HELD = "bank.held_inserts"  # Connection.info key: the transaction's queue of held rows
_PARAMETER = re.compile(r"%\((\w+)\)s")


@dataclass(slots=True)
class _Held:
    plan: _Plan
    rows: list[list[Any]]  # bind values in the plan's order, one list per row


def hold_inserts(conn: Connection) -> None:
    """From now until `drop_held`, `insert_later` on `conn` queues its rows."""
    conn.info[_HELD] = []


def _queue(conn: Connection) -> list[_Held] | None:
    # A lost connection has no queue to touch (its info cannot be reached until the
    # transaction ends, and the pool clears it before the slot connects again).
    if conn.invalidated:
        return None
    held: list[_Held] | None = conn.info.get(_HELD)
    return held


def drop_held(conn: Connection) -> None:
    """Stop holding; rows still queued (a transaction that did not commit) are dropped."""
    if not conn.invalidated:
        conn.info.pop(_HELD, None)


def send_held(conn: Connection) -> None:
    """Send the queued rows, if any, as one statement (errors as `Connection.execute`'s)."""
    held = _queue(conn)
    if not held:
        return
    batch = held[:]
    held.clear()
    sql, names = _combined(tuple((part.plan, len(part.rows)) for part in batch))
    values = [value for part in batch for row in part.rows for value in row]
    _call(conn, sql, dict(zip(names, values, strict=True)))


# Keyed by the plans themselves (identity), which live as long as their Prepared statements.
_COMBINED: dict[tuple[tuple[_Plan, int], ...], tuple[str, tuple[str, ...]]] = {}
_COMBINED_MAX = 512  # distinct shapes of held batches kept (a handful in practice)
_CLAUSES: dict[_Plan, tuple[str, str]] = {}


def _values_clause(plan: _Plan) -> tuple[str, str]:
    """(`INSERT INTO t (...)`, `(<one row's placeholders>)`) of a plan that can be held."""
    found = _CLAUSES.get(plan)
    if found is None:
        head, sep, row_sql = plan.sql.partition(" VALUES ")
        if (
            plan.positional
            or not head.startswith("INSERT INTO ")
            or not sep
            or not (row_sql.startswith("(") and row_sql.endswith(")"))
        ):
            raise ValueError("only INSERT ... VALUES with named parameters can be held")
        found = _CLAUSES[plan] = (head, row_sql)
    return found


def _renamed(row_sql: str, prefix: str) -> str:
    return _PARAMETER.sub(lambda match: f"%({prefix}{match.group(1)})s", row_sql)


def _combined(parts: tuple[tuple[_Plan, int], ...]) -> tuple[str, tuple[str, ...]]:
    """`WITH h0 AS (INSERT ...), h1 AS (INSERT ...) INSERT ...`, parameters renamed per part
    and row (`h<part>_<row>_<name>`), and those names in the order the values come."""
    found = _COMBINED.get(parts)
    if found is not None:
        return found
    statements: list[str] = []
    names: list[str] = []
    for index, (plan, count) in enumerate(parts):
        head, row_sql = _values_clause(plan)
        rows = []
        for row in range(count):
            prefix = f"h{index}_{row}_"
            rows.append(_renamed(row_sql, prefix))
            names.extend(prefix + name for name, _, _ in plan.binds)
        statements.append(f"{head} VALUES {', '.join(rows)}")
    *ctes, last = statements
    sql = last
    if ctes:
        sql = "WITH " + ", ".join(f"h{i} AS ({cte})" for i, cte in enumerate(ctes)) + " " + last
    found = (sql, tuple(names))
    if len(_COMBINED) < _COMBINED_MAX:
        _COMBINED[parts] = found
    return found


def run_driver_sql(conn: Connection, sql: str) -> None:
    """Run a parameterless statement (BEGIN IMMEDIATE) on the driver, errors as above."""
    _call(conn, sql, (), fetch=False)


def run_driver(
    conn: Connection, sql: str, params: Any, *, fetch: bool = False, many: bool = False
) -> Sequence[Any]:
    """Run SQL and parameters already in the driver's form (`Prepared.late_call`), in the
    Connection's transaction, errors as above; with `fetch`, the unprocessed rows."""
    return _call(conn, sql, params, fetch=fetch, many=many)


def _call(
    conn: Connection, sql: str, params: Any, *, fetch: bool = False, many: bool = False
) -> Sequence[Any]:
    """Execute on a fresh cursor of the Connection's DBAPI connection; with `fetch` (known from
    the statement, so no cursor.description check per call), the rows."""
    try:
        cursor = conn.connection.cursor()
        try:
            if many:
                cursor.executemany(sql, params)
                return []
            cursor.execute(sql, params)
            return cursor.fetchall() if fetch else []
        finally:
            cursor.close()
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _wrapped(conn, exc, sql, params) from exc


def _wrapped(conn: Connection, exc: Exception, sql: str, params: Any) -> Exception:
    """A driver error as Connection.execute would raise it (a lost connection invalidates)."""
    dialect = conn.dialect
    lost = conn.invalidated or dialect.is_disconnect(
        cast(Any, exc), conn.connection.dbapi_connection, None
    )
    if lost and not conn.invalidated:
        conn.invalidate(exc)
    return DBAPIError.instance(
        sql,
        params,
        exc,
        dialect.loaded_dbapi.Error,
        connection_invalidated=lost,
        dialect=dialect,
    )
