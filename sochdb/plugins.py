"""Python plugins: row triggers written in Python that fire on SQL INSERT, UPDATE and DELETE.

Plugin layer: imports only ``sochdb.errors``, ``sochdb.sql_names`` and pyarrow (plus
``sochdb.sql.types`` when a trigger sets a value that needs a cast). The SQL session calls
``PluginRegistry.fire_batch`` once per statement. Plugin code runs in this process with full
privileges: nothing here is a sandbox.
"""

from __future__ import annotations

import inspect
import linecache
import textwrap
import threading
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from types import TracebackType
from typing import Any

import pyarrow as pa

from sochdb.errors import Error, PluginError, ProgrammingError, TriggerAbort
from sochdb.sql_names import suggest

#: The key under which ``persist=True`` plugins are stored in the catalog.
EXTRA_KEY = "plugins"
_FORMAT = 1
# What converting a handler's values to a column may raise.
_CONVERSION_ERRORS = (pa.ArrowException, Error, OverflowError, TypeError, ValueError)


class TriggerEvent(str, Enum):
    """When a trigger fires. The value is the SQL spelling, accepted in any letter case."""

    BEFORE_INSERT = "BEFORE INSERT"
    AFTER_INSERT = "AFTER INSERT"
    BEFORE_UPDATE = "BEFORE UPDATE"
    AFTER_UPDATE = "AFTER UPDATE"
    BEFORE_DELETE = "BEFORE DELETE"
    AFTER_DELETE = "AFTER DELETE"

    def __str__(self) -> str:
        return self.value

    @property
    def before(self) -> bool:
        return self.value.startswith("BEFORE")

    @property
    def operation(self) -> str:
        """``"INSERT"``, ``"UPDATE"`` or ``"DELETE"``."""
        return self.value.split()[1]

    @property
    def handler_name(self) -> str:
        """The function the plugin code defines for this event: ``on_before_insert`` ..."""
        return "on_" + self.name.lower()

    @classmethod
    def _missing_(cls, value: object) -> TriggerEvent | None:
        if isinstance(value, str):
            key = " ".join(value.replace("_", " ").split()).upper()
            for e in cls:
                if e.value == key:
                    return e
        return None

    @classmethod
    def parse(cls, value: TriggerEvent | str) -> TriggerEvent:
        """``TriggerEvent.BEFORE_INSERT``, ``"BEFORE INSERT"``, ``"before_insert"`` -> the member.

        Raises ProgrammingError naming the accepted spellings for anything else.
        """
        try:
            return cls(value)
        except (ValueError, TypeError):
            names = ", ".join(e.value for e in cls)
            raise ProgrammingError(f"unknown trigger event {value!r}; expected one of "
                                   f"{names}") from None


_BY_WHEN = {(e.value.split()[0], e.operation): e for e in TriggerEvent}


# -- plugins ---------------------------------------------------------------------------

class PythonPlugin:
    """Named Python source whose ``on_<when>_<operation>`` functions are row triggers.

    The code is compiled and run once, here; ``TriggerAbort`` is available to it without an
    import. Handler signatures (``row`` and ``old`` are dicts keyed by column name):

    - ``on_before_insert(row)`` -> the row to store (a dict, or None to keep ``row`` as it
      now is), ``on_after_insert(row)``;
    - ``on_before_update(row, old)`` -> the new row to store, ``on_after_update(row, old)``;
      a one-argument update handler gets only the new row;
    - ``on_before_delete(row)``, ``on_after_delete(row)``: the row being deleted.

    ``unknown_keys`` says what happens when a BEFORE handler returns a key that is not a column
    of the table: ``"error"`` (the default) aborts the statement with PluginError naming the
    plugin and key, ``"ignore"`` drops the key.

    Raises PluginError (naming the plugin and line) for a syntax error, code that fails while
    loading, or a declared trigger without its handler function; ProgrammingError for a bad
    name, table or event.
    """

    def __init__(self, name: str, code: str,
                 triggers: Mapping[str, Iterable[TriggerEvent | str] | TriggerEvent | str],
                 *, unknown_keys: str = "error") -> None:
        if not isinstance(name, str) or not name.strip():
            raise ProgrammingError(f"plugin name must be a non-empty string, not {name!r}")
        if not isinstance(code, str):
            raise ProgrammingError(f"plugin {name!r}: code must be a string of Python source, "
                                   f"not {type(code).__name__}")
        if unknown_keys not in ("error", "ignore"):
            raise ProgrammingError(f"plugin {name!r}: unknown_keys must be 'error' or "
                                   f"'ignore', not {unknown_keys!r}")
        self.name = name
        self.code = code
        self.unknown_keys = unknown_keys
        self.triggers = _normalize_triggers(name, triggers)
        #: Set (instead of raising) for a stored plugin whose code no longer loads.
        self.load_error: PluginError | None = None
        self.handlers: dict[TriggerEvent, tuple[Callable[..., Any], bool]] = {}
        #: The globals of the plugin's code (its functions and any state it keeps).
        self.namespace: dict[str, Any] = {}
        self._compile()

    def __repr__(self) -> str:
        return f"PythonPlugin(name={self.name!r}, triggers={self.triggers!r})"

    @property
    def filename(self) -> str:
        return f"<plugin {self.name}>"

    def events(self) -> set[TriggerEvent]:
        return {TriggerEvent(e) for evs in self.triggers.values() for e in evs}

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in the catalog by ``persist=True``."""
        return {"name": self.name, "code": self.code, "triggers": self.triggers,
                "unknown_keys": self.unknown_keys}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PythonPlugin:
        """Rebuild a stored plugin; if its code no longer loads, the plugin still comes back
        (so it can be unregistered) but every trigger of it fails with the load error."""
        try:
            return cls(d["name"], d["code"], d["triggers"],
                       unknown_keys=d.get("unknown_keys", "error"))
        except PluginError as e:
            p = cls.__new__(cls)
            p.name, p.code, p.unknown_keys = d["name"], d["code"], d.get("unknown_keys", "error")
            p.triggers = _normalize_triggers(p.name, d["triggers"])
            p.namespace = {}
            p.load_error = PluginError(f"stored plugin {p.name!r} could not be loaded: {e}",
                                       plugin=p.name)
            p.handlers = {ev: (_failing(p.load_error), False) for ev in p.events()}
            return p

    def _compile(self) -> None:
        source = textwrap.dedent(self.code)
        try:
            compiled = compile(source, self.filename, "exec")
        except SyntaxError as e:
            raise PluginError(f"plugin {self.name!r} has a syntax error at line {e.lineno}: "
                              f"{e.msg}", plugin=self.name, line=e.lineno) from e
        # Tracebacks through plugin code then show its source lines.
        linecache.cache[self.filename] = (len(source), None, source.splitlines(True),
                                          self.filename)
        namespace = self.namespace
        namespace.update({"__name__": f"sochdb_plugin_{self.name}", "TriggerAbort": TriggerAbort})
        try:
            exec(compiled, namespace)  # noqa: S102 - running user plugin code is the point
        except Exception as e:
            line = _plugin_line(e.__traceback__, self.filename)
            raise PluginError(f"plugin {self.name!r} failed while loading{_at(line)}: "
                              f"{type(e).__name__}: {e}", plugin=self.name, line=line) from e
        for ev in sorted(self.events(), key=list(TriggerEvent).index):
            fn = namespace.get(ev.handler_name)
            tables = ", ".join(t for t, evs in self.triggers.items() if ev.value in evs)
            if not callable(fn):
                raise PluginError(f"plugin {self.name!r} declares {ev.value} on {tables} but "
                                  f"its code defines no function {ev.handler_name}",
                                  plugin=self.name)
            self.handlers[ev] = (fn, self._takes_old(ev, fn))

    def _takes_old(self, ev: TriggerEvent, fn: Callable[..., Any]) -> bool:
        """Whether ``fn`` is called with ``(row, old)``; checks it accepts what it will get."""
        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            return ev.operation == "UPDATE"
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY,
                                                      p.POSITIONAL_OR_KEYWORD)]
        varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
        required = [p for p in positional if p.default is p.empty]
        required_kw = [p for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
        takes_two = ev.operation == "UPDATE" and (varargs or len(positional) >= 2)
        n = 2 if takes_two else 1
        if len(required) > n or required_kw or (not varargs and len(positional) < 1):
            want = "(row, old) or (row)" if ev.operation == "UPDATE" else "(row)"
            raise PluginError(f"plugin {self.name!r}: {ev.handler_name} must take {want}",
                              plugin=self.name)
        return takes_two


def _normalize_triggers(name: str, triggers: Any) -> dict[str, list[str]]:
    if not isinstance(triggers, Mapping) or not triggers:
        raise ProgrammingError(f"plugin {name!r}: triggers must be a non-empty dict of "
                               f"table name -> events, e.g. {{'users': ['BEFORE INSERT']}}")
    out: dict[str, list[str]] = {}
    for table, events in triggers.items():
        if not isinstance(table, str) or not table.strip():
            raise ProgrammingError(f"plugin {name!r}: trigger table names must be non-empty "
                                   f"strings, not {table!r}")
        if isinstance(events, (str, TriggerEvent)):
            events = [events]
        try:
            evs = [TriggerEvent.parse(e).value for e in events]
        except TypeError:
            raise ProgrammingError(f"plugin {name!r}: the events of table {table!r} must be a "
                                   f"list of event names, not {events!r}") from None
        if not evs:
            raise ProgrammingError(f"plugin {name!r} declares no events for table {table!r}")
        out.setdefault(table.lower(), [])
        out[table.lower()] += [e for e in evs if e not in out[table.lower()]]
    return out


def _failing(err: PluginError) -> Callable[..., Any]:
    def handler(*_args: Any) -> Any:
        raise err
    return handler


# -- the registry ----------------------------------------------------------------------

_Entry = tuple[PythonPlugin, Callable[..., Any], bool]


class PluginRegistry:
    """The registered plugins and, per table and event, the handlers to call in order.

    A registry is usable on its own (``fire``) or as a database's (``db.plugins``), where the
    SQL engine calls ``fire_batch``. Handlers of several plugins for one event run in
    registration order, each getting the row the previous one returned.
    """

    def __init__(self, *, _store: Any = None) -> None:
        self._lock = threading.Lock()
        self._plugins: dict[str, PythonPlugin] = {}
        # table -> event -> handlers; replaced (never mutated) so firing needs no lock.
        self._by_table: dict[str, dict[TriggerEvent, tuple[_Entry, ...]]] = {}
        self._store = _store  # the engine: ``extra`` and ``set_extra`` for persist=True
        if _store is not None:
            stored = (_store.extra.get(EXTRA_KEY) or {}).get("plugins", [])
            for d in stored:
                self._add(PythonPlugin.from_dict(d))

    # -- registration --------------------------------------------------------------------

    def register(self, plugin: PythonPlugin, *, persist: bool = False) -> None:
        """Add ``plugin``'s triggers. ``persist=True`` (a database's registry only) also stores
        it in the catalog, through the WAL, so it is registered again when the database opens.
        """
        if not isinstance(plugin, PythonPlugin):
            raise ProgrammingError(f"register() takes a PythonPlugin, not "
                                   f"{type(plugin).__name__}")
        if persist and self._store is None:
            raise ProgrammingError("persist=True needs a database's registry (db.plugins or "
                                   "db.register_plugin)")
        with self._lock:
            self._add(plugin)
            if persist:
                try:
                    self._save(plugin.name, plugin.to_dict())
                except BaseException:
                    self._remove(plugin.name)
                    raise

    def unregister(self, name: str) -> None:
        """Remove the plugin called ``name`` (and its stored copy, if it was persisted)."""
        with self._lock:
            if name not in self._plugins:
                raise ProgrammingError(f"no plugin named {name!r} is registered"
                                       f"{suggest(str(name), self._plugins)}")
            if self._store is not None and name in self._stored_names():
                self._save(name, None)
            self._remove(name)

    def list(self) -> list[str]:
        """Names of the registered plugins, in registration order."""
        return list(self._plugins)

    def get(self, name: str) -> PythonPlugin:
        try:
            return self._plugins[name]
        except KeyError:
            raise ProgrammingError(f"no plugin named {name!r} is registered"
                                   f"{suggest(str(name), self._plugins)}") from None

    def _add(self, plugin: PythonPlugin) -> None:
        if plugin.name in self._plugins:
            raise ProgrammingError(f"a plugin named {plugin.name!r} is already registered; "
                                   f"unregister it first")
        self._plugins[plugin.name] = plugin
        self._rebuild()

    def _remove(self, name: str) -> None:
        del self._plugins[name]
        self._rebuild()

    def _rebuild(self) -> None:
        by_table: dict[str, dict[TriggerEvent, list[_Entry]]] = {}
        for p in self._plugins.values():
            for table, events in p.triggers.items():
                for e in events:
                    ev = TriggerEvent(e)
                    fn, takes_old = p.handlers[ev]
                    by_table.setdefault(table, {}).setdefault(ev, []).append((p, fn, takes_old))
        self._by_table = {t: {e: tuple(h) for e, h in evs.items()} for t, evs in
                          by_table.items()}

    def _stored_names(self) -> set[str]:
        return {d["name"] for d in (self._store.extra.get(EXTRA_KEY) or {}).get("plugins", [])}

    def _save(self, name: str, entry: dict[str, Any] | None) -> None:
        current = (self._store.extra.get(EXTRA_KEY) or {}).get("plugins", [])
        plugins = [d for d in current if d["name"] != name]
        if entry is not None:
            plugins.append(entry)
        # None when empty, so that opening the database again skips plugins altogether.
        self._store.set_extra(EXTRA_KEY, {"format": _FORMAT, "plugins": plugins} if plugins
                              else None)

    # -- firing --------------------------------------------------------------------------

    def has_triggers(self, table: str) -> bool:
        """Whether any plugin has a trigger on ``table`` (the engine's cheap pre-check)."""
        return table.lower() in self._by_table

    def fire(self, table: str, event: TriggerEvent | str, row: dict[str, Any],
             old: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run the ``event`` handlers of ``table`` on one row; return the row as the last
        BEFORE handler left it (AFTER handlers return ``row`` unchanged). ``old`` is the row
        before an UPDATE. TriggerAbort propagates; any other exception becomes PluginError.
        """
        ev = TriggerEvent.parse(event)
        rows = [row]
        olds = [old] if old is not None else None
        for entry in self._by_table.get(table.lower(), {}).get(ev, ()):
            _run(entry, ev, table, rows, olds)
        return rows[0]

    def fire_batch(self, tdef: Any, when: str, event: str, rows: pa.Table,
                   old: pa.Table | None = None) -> pa.Table:
        """Fire the handlers of one statement's rows (columns named as the table's), as the
        SQL engine does: returns the rows to store (BEFORE INSERT/UPDATE) or ``rows``."""
        ev = _BY_WHEN[(when.upper(), event.upper())]
        chain = self._by_table.get(tdef.name.lower(), {}).get(ev)
        if not chain or rows.num_rows == 0:
            return rows
        changes = ev.before and ev.operation != "DELETE"
        dicts = rows.to_pylist()
        for i, entry in enumerate(chain):
            if i and not changes:  # each AFTER/DELETE handler sees the stored rows
                dicts = rows.to_pylist()
            olds = old.to_pylist() if old is not None and entry[2] else None
            _run(entry, ev, tdef.name, dicts, olds)
        if not changes:
            return rows
        return _to_table(chain, ev, tdef, rows, dicts)


def _run(entry: _Entry, ev: TriggerEvent, table: str, rows: list, olds: list | None) -> None:
    """Call one plugin's handler on every row; BEFORE handlers' results replace the rows."""
    plugin, fn, takes_old = entry
    keep = ev.before and ev.operation != "DELETE"
    i = 0
    try:
        if takes_old:
            if olds is None:
                olds = [None] * len(rows)
            for i, (row, o) in enumerate(zip(rows, olds)):
                out = fn(row, o)
                if keep and out is not row and out is not None:
                    rows[i] = _check_row(plugin, fn, out)
        else:
            for i, row in enumerate(rows):
                out = fn(row)
                if keep and out is not row and out is not None:
                    rows[i] = _check_row(plugin, fn, out)
    except TriggerAbort as e:
        e.details.setdefault("plugin", plugin.name)
        raise
    except Exception as e:
        if isinstance(e, PluginError) and e.details.get("plugin") == plugin.name:
            raise
        line = _plugin_line(e.__traceback__, plugin.filename)
        raise PluginError(f"plugin {plugin.name!r} failed in {ev.handler_name} on a row of "
                          f"{table}{_at(line)}: {type(e).__name__}: {e}", plugin=plugin.name,
                          table=table, event=ev.value, line=line, row=i) from e


def _check_row(plugin: PythonPlugin, fn: Callable[..., Any], out: Any) -> dict:
    if not isinstance(out, dict):
        raise PluginError(f"plugin {plugin.name!r}: {fn.__name__} must return the row as a "
                          f"dict (or None), not {type(out).__name__}", plugin=plugin.name)
    return out


def _to_table(chain: tuple[_Entry, ...], ev: TriggerEvent, tdef: Any, rows: pa.Table,
              dicts: list[dict]) -> pa.Table:
    """The handlers' dicts as a table of ``rows``' schema. Keys a handler dropped keep their
    value; keys that are not columns are an error or dropped, per the plugin's setting."""
    table, names = tdef.name, rows.column_names
    cols = set(names)
    extra = set().union(*dicts) - cols  # set ops run in C; per-row checks only when needed
    if extra:
        strict = [p.name for p, _, _ in chain if p.unknown_keys == "error"]
        if strict:
            key = next(k for d in dicts for k in d if k not in cols)
            raise PluginError(f"{_who(strict)} set key {key!r}, which is not a column of "
                              f"{table}{suggest(str(key), names)} ({ev.handler_name}); add the "
                              f"column, or create the plugin with unknown_keys='ignore'",
                              plugin=strict[0], table=table, key=key)
        dicts = [d if d.keys() <= cols else {k: v for k, v in d.items() if k in cols}
                 for d in dicts]
    if min(map(len, dicts)) < len(names):
        dicts = [d if len(d) == len(names) else {**rows.slice(i, 1).to_pylist()[0], **d}
                 for i, d in enumerate(dicts)]
    arrays = []
    for field in rows.schema:
        vals = [d[field.name] for d in dicts]
        try:
            arrays.append(pa.array(vals, type=field.type))
        except _CONVERSION_ERRORS:
            sql_type = getattr(tdef.column(field.name), "sql_type", "") or str(field.type)
            arrays.append(_cast(chain, ev, table, field, sql_type, vals))
    return pa.table(arrays, schema=rows.schema)


def _cast(chain: tuple[_Entry, ...], ev: TriggerEvent, table: str, field: pa.Field,
          sql_type: str, vals: list) -> pa.Array:
    """Values a handler set, cast as SQL would (``5`` into a TEXT column); or PluginError
    naming the plugin, column and first value that cannot be stored."""
    from sochdb.sql import types as T
    try:
        return T.cast(pa.array(vals), field.type, what=f"column {field.name}")
    except _CONVERSION_ERRORS as e:
        bad = None
        for v in vals:
            try:
                T.cast(pa.array([v]), field.type, what=f"column {field.name}")
            except _CONVERSION_ERRORS:
                bad = v
                break
        raise PluginError(f"{_who([p.name for p, _, _ in chain])} set {table}.{field.name} to "
                          f"{bad!r}, which cannot be stored as {sql_type} "
                          f"({ev.handler_name})", plugin=chain[0][0].name, table=table,
                          column=field.name) from e


def _who(names: list[str]) -> str:
    if len(names) == 1:
        return f"plugin {names[0]!r}"
    return "one of the plugins " + ", ".join(repr(n) for n in names)


def _plugin_line(tb: TracebackType | None, filename: str) -> int | None:
    """The line in the plugin's code where the exception was raised (innermost frame)."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _at(line: int | None) -> str:
    return f" (line {line})" if line is not None else ""


__all__ = [
    "EXTRA_KEY",
    "PluginError",
    "PluginRegistry",
    "PythonPlugin",
    "TriggerAbort",
    "TriggerEvent",
]
