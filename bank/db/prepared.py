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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.selectable import ReturnsRows

Processor = Callable[[Any], Any] | None
_REQUIRED = object()


@dataclass(frozen=True, slots=True)
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

    __slots__ = ("_column_keys", "_plans", "statement")

    def __init__(self, statement: ReturnsRows, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self._column_keys = list(column_keys) if column_keys is not None else None
        self._plans: dict[tuple[str, str], _Plan] = {}

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

    def _parameters(self, plan: _Plan, values: Mapping[str, Any]) -> Any:
        params = []
        for name, fixed, processor in plan.binds:
            value = values[name] if fixed is _REQUIRED else fixed
            params.append(value if processor is None or value is None else processor(value))
        if plan.positional:
            return params
        return {name: value for (name, _, _), value in zip(plan.binds, params, strict=True)}

    def rows(self, conn: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run the statement; its rows (RETURNING or SELECT), processed like Core's."""
        plan = self._plan(conn.dialect)
        fetched = _call(conn, plan.sql, self._parameters(plan, values), fetch=plan.returns_rows)
        if not plan.results:
            return [tuple(row) for row in fetched]
        return [
            tuple(
                value if processor is None or value is None else processor(value)
                for processor, value in zip(plan.results, row, strict=True)
            )
            for row in fetched
        ]

    def run(self, conn: Connection, values: Mapping[str, Any]) -> None:
        """Run a statement that returns no rows."""
        self.rows(conn, values)

    def first(self, conn: Connection, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        found = self.rows(conn, values)
        return found[0] if found else None

    def run_many(self, conn: Connection, many: Iterable[Mapping[str, Any]]) -> None:
        """Run the statement once per parameter set, in one driver call."""
        plan = self._plan(conn.dialect)
        _call(conn, plan.sql, [self._parameters(plan, values) for values in many], many=True)


def run_driver_sql(conn: Connection, sql: str) -> None:
    """Run a parameterless statement (BEGIN IMMEDIATE) on the driver, errors as above."""
    _call(conn, sql, (), fetch=False)


def _call(
    conn: Connection, sql: str, params: Any, *, fetch: bool = False, many: bool = False
) -> Sequence[Any]:
    """Execute on a fresh cursor of the Connection's DBAPI connection; with `fetch`, the rows.

    `fetch` comes from the statement, not from the cursor's description, which a driver may
    fill in only when the result arrives (psycopg's pipeline mode)."""
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
