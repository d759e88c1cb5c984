"""A SQL session: statement dispatch, explicit transactions, settings and the plan cache.

Outside BEGIN ... COMMIT every statement is its own transaction (autocommit). Inside an
explicit transaction a failing statement leaves no effect of its own and, as in DuckDB and
PostgreSQL, marks the transaction aborted: later statements are refused until ROLLBACK, and
COMMIT rolls back. ``Database.session()`` gives each connection (IPC client, DB-API
connection) its own Session; ``Database.execute_sql`` uses a default one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Sequence

import pyarrow as pa
from sqlglot import exp

from sochdb.errors import (DatabaseError, Error, ExecutionError, InternalError,
                           NotSupportedError, ProgrammingError, TransactionClosedError)
from sochdb.sql import ddl, dml
from sochdb.sql.context import IGNORED_SETTINGS, Settings
from sochdb.sql.parser import parse
from sochdb.sql.result import Result
from sochdb.sql.statement import StmtCtx

if TYPE_CHECKING:
    from sochdb.database import Database
    from sochdb.engine.transaction import TxnState
    from sochdb.transaction import Transaction

_QUERY_TYPES = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Values, exp.Subquery)
_PLAN_CACHE_SIZE = 256


class Session:
    def __init__(self, db: "Database") -> None:
        self.db = db
        self.settings = Settings()
        self.explicit: "Transaction | None" = None
        self.failed = False
        self.savepoints: list[tuple[str, Any]] = []  # (name, mark) of the explicit txn
        self.interrupt_event = threading.Event()
        self._plans: OrderedDict[tuple, tuple] = OrderedDict()
        self._fast: dict[tuple, tuple] = {}
        self._lock = threading.RLock()

    @property
    def registry(self) -> dict[str, Any]:
        return self.db._registry

    # -- entry points --------------------------------------------------------------------

    def execute(self, sql: str, params: Any = None, txn: "Transaction | None" = None) -> Result:
        if params is None and sql[:16].lstrip()[:6].upper() == "INSERT":
            fast = self._fast_insert(sql, txn)
            if fast is not None:
                return fast
        stmts = parse(sql)
        if not stmts:
            return Result(message="OK", statement="EMPTY")
        if params is not None and len(stmts) > 1:
            raise ProgrammingError("parameters can only be used with a single statement")
        if params is not None and type(params) not in (list, tuple, dict) and (
                not isinstance(params, (Sequence, dict)) or isinstance(params, (str, bytes))):
            raise ProgrammingError(f"params must be a sequence or a dict, not "
                                   f"{type(params).__name__}")
        if params is not None and not isinstance(params, dict):
            _check_param_count(stmts[0], len(params))
        self.interrupt_event.clear()
        result = None
        with self._lock:
            for stmt in stmts:
                result = self._execute_one(stmt, params, txn, sql)
        return result

    def executemany(self, sql: str, seq_of_params: Sequence[Any],
                    txn: "Transaction | None" = None) -> Result:
        """One statement, many parameter sets, in one transaction (fast for INSERT)."""
        from sochdb.sql.batch import executemany
        stmts = parse(sql)
        if len(stmts) != 1:
            raise ProgrammingError("executemany takes exactly one statement")
        with self._lock:
            return self._in_txn(txn, lambda state: executemany(self, stmts[0], seq_of_params,
                                                               state))

    def _fast_insert(self, sql: str, txn: "Transaction | None") -> Result | None:
        """One-row literal INSERT without sqlglot and without Arrow (see fastpath.py)."""
        from sochdb.sql.fastpath import FastInsert, parse_insert
        parsed = parse_insert(sql)
        if parsed is None or (txn is None and self.explicit is not None and self.failed):
            return None
        table, cols, values = parsed
        with self._lock:
            autocommit = txn is None and self.explicit is None
            engine = self.db._engine
            state = txn.state if txn is not None else (
                self.explicit.state if self.explicit is not None else engine.begin())
            try:
                state.check_open()
                tdef = state.catalog.get(table)
                if tdef is None or not FastInsert.applicable(tdef, self):
                    row = plan = None
                else:
                    key = (id(state.catalog), table.lower(), tuple(cols) if cols else None)
                    hit = self._fast.get(key)
                    if hit is None or hit[1] is not state.catalog:
                        try:
                            hit = self._fast[key] = (FastInsert(tdef, cols, self),
                                                     state.catalog)
                        except (ValueError, Error):
                            hit = None
                    plan = hit[0] if hit is not None else None
                    row = plan.row(values) if plan is not None else None
                done = row is not None and plan.insert(state, row)
            except Error:
                if autocommit:
                    engine.abort(state)
                elif txn is None:
                    self.failed = True
                raise
            if not done:
                if autocommit:
                    engine.abort(state)
                return None
            if autocommit:
                engine.commit(state)
        return Result(message="1 row inserted", rowcount=1, statement="INSERT")

    # -- statements ----------------------------------------------------------------------

    def _execute_one(self, stmt: exp.Expression, params: Any, txn: "Transaction | None",
                     sql: str) -> Result:
        if isinstance(stmt, exp.Transaction):
            return self._begin(txn)
        if isinstance(stmt, exp.Commit):
            return self._commit(txn)
        if isinstance(stmt, exp.Rollback):
            if stmt.args.get("savepoint") is not None:
                return self._rollback_to_savepoint(txn, stmt.args["savepoint"].name)
            return self._rollback(txn)
        if isinstance(stmt, exp.Command) and stmt.name.upper() in ("SAVEPOINT", "RELEASE"):
            return self._savepoint_command(txn, stmt.name.upper(), stmt.expression.name)
        if isinstance(stmt, exp.Set):
            return self._set(stmt)
        if isinstance(stmt, exp.Pragma):
            return self._pragma(stmt)
        if txn is None and self.explicit is not None and self.failed:
            raise TransactionClosedError("the current transaction is aborted after an error; "
                                         "commands are ignored until ROLLBACK (or COMMIT, "
                                         "which rolls back)")
        if isinstance(stmt, exp.Command) and stmt.name.upper() == "EXPLAIN":
            return self._in_txn(txn, lambda st: self._explain(stmt.expression, params, st))
        return self._in_txn(txn, lambda st: self.run(stmt, params, st, sql))

    def _in_txn(self, txn: "Transaction | None", work) -> Result:
        engine = self.db._engine
        if txn is not None:
            return self._with_savepoint(txn.state, work)
        if self.explicit is not None:
            try:
                return self._with_savepoint(self.explicit.state, work)
            except Error:
                self.failed = True
                raise
        state = engine.begin()
        try:
            result = work(state)
        except BaseException:
            if state.status == "active":
                engine.abort(state)
            raise
        engine.commit(state)
        return result

    def _with_savepoint(self, state: "TxnState", work) -> Result:
        state.check_open()
        mark = _savepoint(state)
        try:
            return work(state)
        except BaseException:
            _rollback_to(state, mark)
            raise

    def run(self, stmt: exp.Expression, params: Any, state: "TxnState", sql: str) -> Result:
        ctx = StmtCtx(state, params, self.settings, self)
        try:
            with_ = stmt.args.get("with_") if isinstance(
                stmt, (exp.Insert, exp.Update, exp.Delete)) else None
            if with_ is not None:
                from sochdb.sql.ctes import push_ctes
                ctx.cte_frames = [push_ctes(ctx.planner(), with_, None)]
            if isinstance(stmt, _QUERY_TYPES):
                return self._query(stmt, ctx)
            if isinstance(stmt, exp.Insert):
                return dml.insert(ctx, stmt)
            if isinstance(stmt, exp.Update):
                return dml.update(ctx, stmt)
            if isinstance(stmt, exp.Delete):
                return dml.delete(ctx, stmt)
            if isinstance(stmt, exp.Create):
                kind = (stmt.args.get("kind") or "").upper()
                if kind == "TABLE":
                    return ddl.create_table(ctx, stmt, sql)
                if kind == "INDEX":
                    return ddl.create_index(ctx, stmt)
                if kind == "VIEW":
                    return ddl.create_view(ctx, stmt)
                raise NotSupportedError(f"CREATE {kind} is not supported")
            if isinstance(stmt, exp.Drop):
                return ddl.drop(ctx, stmt)
            if isinstance(stmt, exp.Alter):
                return ddl.alter_table(ctx, stmt)
            if isinstance(stmt, exp.Copy):
                from sochdb.sql.copy import copy
                return copy(ctx, stmt)
        except Error:
            raise
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
            raise ExecutionError(f"{_first_line(e)} (in: {_short(stmt)})") from e
        except RecursionError as e:
            raise ProgrammingError(f"statement nests too deeply: {_short(stmt)}") from e
        except (ValueError, TypeError, KeyError, IndexError, AttributeError,
                ZeroDivisionError, OverflowError) as e:
            raise InternalError(f"internal error while running {_short(stmt)}: "
                                f"{type(e).__name__}: {e}") from e
        raise NotSupportedError(f"unsupported statement: {_short(stmt)}")

    def _query(self, stmt: exp.Expression, ctx: StmtCtx) -> Result:
        op = self._plan(stmt, ctx)
        point = getattr(op, "point", None)
        if point is not None:
            rows = point.run(ctx.exec_ctx())
            if rows is not None:
                return Result.from_rows(rows, [c.name for c in op.columns],
                                        [c.type for c in op.columns])
        table = op.execute(ctx.exec_ctx())
        return Result(table, [c.name for c in op.columns])

    def _plan(self, stmt: exp.Expression, ctx: StmtCtx):
        sig = _param_signature(ctx.params)
        key = (id(stmt), id(ctx.txn.catalog), self.settings, sig)
        hit = self._plans.get(key)
        if hit is not None and hit[1] is stmt and hit[2] is ctx.txn.catalog:
            self._plans.move_to_end(key)
            return hit[0]
        op = ctx.planner().plan_query(stmt)
        self._plans[key] = (op, stmt, ctx.txn.catalog)
        if len(self._plans) > _PLAN_CACHE_SIZE:
            self._plans.popitem(last=False)
        return op

    def _explain(self, stmt: exp.Expression, params: Any, state: "TxnState") -> Result:
        ctx = StmtCtx(state, params, self.settings, self)
        if not isinstance(stmt, _QUERY_TYPES):
            text = f"{type(stmt).__name__.upper()} {_short(stmt)}"
            return Result(pa.table({"plan": [text]}), ["plan"], statement="EXPLAIN")
        op = ctx.planner().plan_query(stmt)
        lines = op.explain()
        return Result(pa.table({"plan": lines}), ["plan"], statement="EXPLAIN")

    # -- transaction control -------------------------------------------------------------

    def _begin(self, txn) -> Result:
        if txn is not None or self.explicit is not None:
            raise ProgrammingError("cannot BEGIN: a transaction is already active")
        self.explicit = self.db.transaction()
        self.failed = False
        self.savepoints = []
        return Result(message="BEGIN", statement="BEGIN")

    def _commit(self, txn) -> Result:
        if txn is not None:
            raise ProgrammingError("use Transaction.commit() to commit this transaction")
        if self.explicit is None:
            raise ProgrammingError("cannot COMMIT: no transaction is active")
        t, failed = self.explicit, self.failed
        self.explicit, self.failed, self.savepoints = None, False, []
        if failed:
            t.abort()
            return Result(message="ROLLBACK", statement="ROLLBACK")
        lsn = t.commit()
        return Result(message=f"COMMIT (LSN {lsn})", statement="COMMIT")

    def _rollback(self, txn) -> Result:
        if txn is not None:
            raise ProgrammingError("use Transaction.abort() to roll this transaction back")
        if self.explicit is None:
            raise ProgrammingError("cannot ROLLBACK: no transaction is active")
        t = self.explicit
        self.explicit, self.failed, self.savepoints = None, False, []
        if t.status == "active":
            t.abort()
        return Result(message="ROLLBACK", statement="ROLLBACK")

    def _savepoint_command(self, txn, verb: str, name: str) -> Result:
        """SAVEPOINT marks the explicit transaction's state; RELEASE forgets the mark (and
        every later one) and keeps the work."""
        if txn is not None or self.explicit is None:
            raise ProgrammingError(f"{verb} can only be used inside BEGIN ... COMMIT")
        if verb == "SAVEPOINT":
            if self.failed:
                raise TransactionClosedError("the current transaction is aborted after an "
                                             "error; ROLLBACK TO a savepoint or ROLLBACK")
            self.savepoints.append((name.lower(), _savepoint(self.explicit.state)))
            return Result(message="SAVEPOINT", statement="SAVEPOINT")
        pos = self._find_savepoint(name)
        del self.savepoints[pos:]
        return Result(message="RELEASE", statement="RELEASE")

    def _rollback_to_savepoint(self, txn, name: str) -> Result:
        """Undo the work done since the savepoint, which stays defined; an aborted
        transaction becomes usable again (as in PostgreSQL)."""
        if txn is not None or self.explicit is None:
            raise ProgrammingError("ROLLBACK TO SAVEPOINT can only be used inside "
                                   "BEGIN ... COMMIT")
        pos = self._find_savepoint(name)
        _rollback_to(self.explicit.state, self.savepoints[pos][1])
        del self.savepoints[pos + 1:]
        self.failed = False
        return Result(message="ROLLBACK", statement="ROLLBACK")

    def _find_savepoint(self, name: str) -> int:
        for i in range(len(self.savepoints) - 1, -1, -1):
            if self.savepoints[i][0] == name.lower():
                return i
        known = ", ".join(n for n, _ in self.savepoints) or "none"
        raise ProgrammingError(f"savepoint {name!r} does not exist (defined: {known})")

    # -- settings and pragmas ------------------------------------------------------------

    def _set(self, stmt: exp.Set) -> Result:
        for item in stmt.expressions:
            eq = item.this
            if not isinstance(eq, exp.EQ):
                raise ProgrammingError(f"SET expects name = value: {item.sql()}")
            name = eq.left.name.lower()
            value = eq.right
            v = value.this if isinstance(value, (exp.Literal, exp.Boolean)) else value.name
            if name in IGNORED_SETTINGS:
                continue
            if name == "dialect":
                self.settings = _dialect_settings(str(v))
                continue
            self.settings = self.settings.with_value(name, v)
        self._plans.clear()
        return Result(message="SET", statement="SET")

    def _pragma(self, stmt: exp.Pragma) -> Result:
        name = stmt.this.name.lower() if isinstance(stmt.this, exp.Expression) else str(stmt.this)
        if name in ("integrity_check", "quick_check"):
            problems = self.db.verify() if hasattr(self.db, "verify") else []
            rows = problems or ["ok"]
            return Result(pa.table({name: rows}), [name], statement="PRAGMA")
        if name in ("enable_verification", "disable_verification", "verify_parallelism",
                    "enable_profiling", "disable_profiling"):
            return Result(message="PRAGMA", statement="PRAGMA")
        if name == "table_info":
            raise NotSupportedError("PRAGMA table_info is not supported; use .schema")
        raise NotSupportedError(f"unknown PRAGMA {name}")

    # -- triggers (filled in by the plugin registry) -------------------------------------

    def fire_before(self, ctx: StmtCtx, tdef, event: str, rows: pa.Table,
                    old: pa.Table | None = None) -> pa.Table:
        plugins = self.db._plugins
        if plugins is None or not plugins.has_triggers(tdef.name):
            return rows
        return plugins.fire_batch(tdef, "BEFORE", event, rows, old)

    def fire_after(self, ctx: StmtCtx, tdef, event: str, rows: pa.Table,
                   old: pa.Table | None = None) -> None:
        plugins = self.db._plugins
        if plugins is None or not plugins.has_triggers(tdef.name):
            return
        plugins.fire_batch(tdef, "AFTER", event, rows, old)

    def interrupt(self) -> None:
        self.interrupt_event.set()


def _dialect_settings(name: str) -> Settings:
    n = name.lower()
    if n == "sqlite":
        return Settings(integer_division=True,
                        default_null_order="nulls_first_on_asc_last_on_desc",
                        loose_group_by=True)
    if n == "duckdb":
        return Settings()
    raise ProgrammingError(f"dialect must be 'duckdb' or 'sqlite', not {name!r}")


def _savepoint(state: "TxnState"):
    if state.pending:
        state.flush()
    tables = {tid: (len(lt.inserts), len(lt.deleted_committed), set(lt.deleted_local))
              for tid, lt in state.tables.items()}
    return (tables, state.catalog, len(state.catalog_ops))


def _rollback_to(state: "TxnState", mark) -> None:
    tables, catalog, nops = mark
    if state.pending:
        state.flush()  # fast-path rows since the mark become ordinary inserts, undone below
    for tid in list(state.tables):
        lt = state.tables[tid]
        if tid not in tables:
            del state.tables[tid]
            continue
        n_ins, n_del, local = tables[tid]
        del lt.inserts[n_ins:]
        del lt.deleted_committed[n_del:]
        lt._deleted_arr = None
        lt.deleted_local = set(local)  # the mark stays usable (ROLLBACK TO twice)
    state.catalog = catalog
    del state.catalog_ops[nops:]


_PARAM_COUNTS: dict[int, tuple[exp.Expression, int | None]] = {}


def _check_param_count(stmt: exp.Expression, given: int) -> None:
    """More positional values than the statement has placeholders is a mistake, as in
    sqlite3 ("Incorrect number of bindings"); missing ones are reported when bound."""
    hit = _PARAM_COUNTS.get(id(stmt))
    if hit is not None and hit[0] is stmt:
        used = hit[1]
    else:
        used = 0
        for p in stmt.find_all(exp.Placeholder):
            name = p.this
            if name is None or name == "?":
                used += 1
            elif str(name).isdigit():
                used = max(used, int(str(name)))
            else:
                used = None  # named placeholders are looked up by name
                break
        if len(_PARAM_COUNTS) > 4096:
            _PARAM_COUNTS.clear()
        _PARAM_COUNTS[id(stmt)] = (stmt, used)
    if used is not None and given > used:
        raise ProgrammingError(f"{given} parameters were given but the statement uses "
                               f"{used}")


def _param_signature(params: Any) -> tuple:
    if params is None:
        return ()
    if isinstance(params, dict):
        return tuple(sorted((k, type(v).__name__) for k, v in params.items()))
    return tuple(type(v).__name__ for v in params)


def _first_line(e: Exception) -> str:
    return str(e).split("\n")[0]


def _short(stmt: exp.Expression) -> str:
    text = stmt.sql(dialect="duckdb")
    return text if len(text) <= 120 else text[:117] + "..."


__all__ = ["Session", "DatabaseError"]
