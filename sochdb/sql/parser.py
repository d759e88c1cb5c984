"""SQL text -> sqlglot statements, parsed once per distinct text and cached.

The DuckDB dialect of sqlglot reads both DuckDB and SQLite style SQL. Syntax errors become
ParseError with the line and column of the fault. Statements are never mutated after parsing,
so cached trees can be shared by every execution and every session.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

import sqlglot
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.errors import ParseError as SqlglotParseError
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from sochdb.errors import ParseError


class _NullsSmall(DuckDB):
    NULL_ORDERING = "nulls_are_small"


class _NullsLarge(DuckDB):
    NULL_ORDERING = "nulls_are_large"


_CACHE_SIZE = 2048
_cache: OrderedDict[str, list[exp.Expression]] = OrderedDict()
_lock = threading.Lock()
_NULLS = re.compile(r"\bNULLS\s+(FIRST|LAST)\b", re.IGNORECASE)
_EXPLAIN = re.compile(r"^\s*EXPLAIN\s+(ANALYZE\s+)?", re.IGNORECASE)
_END = re.compile(r"^\s*END(\s+TRANSACTION)?\s*;?\s*$", re.IGNORECASE)
_SAVEPOINT = re.compile(r'^\s*(SAVEPOINT|RELEASE(?:\s+SAVEPOINT)?)\s+(\w+|"[^"]+")\s*;?\s*$',
                        re.IGNORECASE)


def parse(sql: str) -> list[exp.Expression]:
    """All statements of ``sql`` (shared, read-only trees)."""
    if not isinstance(sql, str):
        raise TypeError(f"SQL must be str, not {type(sql).__name__}")
    hit = _cache.get(sql)
    if hit is not None:
        return hit
    stmts = _parse_uncached(sql)
    with _lock:
        _cache[sql] = stmts
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return stmts


def _parse_uncached(sql: str) -> list[exp.Expression]:
    m = _EXPLAIN.match(sql)
    if m:
        inner = _parse_uncached(sql[m.end():])
        if len(inner) != 1:
            raise ParseError("EXPLAIN takes exactly one statement")
        return [exp.Command(this="EXPLAIN", expression=inner[0],
                            analyze=bool(m.group(1)))]
    if _END.match(sql):
        return [exp.Commit()]
    if "?" in sql or "TRIM" in sql.upper():
        sql = _prepare_tokens(sql)
    m = _SAVEPOINT.match(sql)
    if m:  # sqlglot has no node for these; ROLLBACK TO it parses itself
        verb = "SAVEPOINT" if m.group(1).upper() == "SAVEPOINT" else "RELEASE"
        return [exp.Command(this=verb, expression=exp.to_identifier(m.group(2).strip('"')))]
    try:
        stmts = [s for s in sqlglot.parse(sql, read=DuckDB)
                 if s is not None and not isinstance(s, exp.Semicolon)]
    except SqlglotParseError as e:
        raise _convert(e, sql) from None
    except TokenError as e:
        text = str(e)
        if sql.count("'") % 2 or sql.count('"') % 2:
            text = "a quoted string or identifier is not closed"
        raise ParseError(f"syntax error: {text}") from None
    for s in stmts:
        if isinstance(s, exp.Command) and s.name.upper() not in ("EXPLAIN",):
            if s.name.upper() in ("SAVEPOINT", "RELEASE"):
                raise ParseError(f"{s.name.upper()} must be sent as a statement of its own")
            raise ParseError(f"unsupported or malformed statement: {s.sql()[:80]!r}")
    if _NULLS.search(sql):
        _mark_explicit_nulls(sql, stmts)
    if "USING" in sql.upper():
        _check_using_qualifiers(sql, stmts)
    return stmts


_USING_LIST = re.compile(r"\bUSING\s*\(([^()]*)\)", re.IGNORECASE)


def _check_using_qualifiers(sql: str, stmts: list[exp.Expression]) -> None:
    """sqlglot drops the table of ``JOIN t2 USING (t1.a)``; DuckDB rejects the qualifier."""
    if not any(j.args.get("using") for s in stmts for j in s.find_all(exp.Join)):
        return
    for m in _USING_LIST.finditer(sql):
        if "." in re.sub(r'"[^"]*"', "", m.group(1)):
            raise ParseError(f"syntax error at or near '.': a USING column takes no table "
                             f"qualifier: USING ({m.group(1).strip()})")


def _prepare_tokens(sql: str) -> str:
    """What needs the tokens before sqlglot parses: the LTRIM/RTRIM argument count, and
    numbering ``?`` placeholders. One tokenization serves both; a text that does not
    tokenize is left for sqlglot to report."""
    try:
        tokens = DuckDB().tokenize(sql)
    except TokenError:
        return sql
    _check_trim_arguments(tokens)
    return _number_question_marks(sql, tokens)


def _check_trim_arguments(tokens: list) -> None:
    """sqlglot parses LTRIM/RTRIM(s, chars, extra) into a TRIM node and drops the extra
    argument, so a wrong call would run as a different one: count the arguments first."""
    for i, t in enumerate(tokens[:-1]):
        if t.text.upper() not in ("LTRIM", "RTRIM") or tokens[i + 1].token_type != \
                TokenType.L_PAREN:
            continue
        depth, args = 0, 1
        for u in tokens[i + 1:]:
            if u.token_type in (TokenType.L_PAREN, TokenType.L_BRACKET):
                depth += 1
            elif u.token_type in (TokenType.R_PAREN, TokenType.R_BRACKET):
                depth -= 1
                if depth == 0:
                    break
            elif u.token_type == TokenType.COMMA and depth == 1:
                args += 1
        if args > 2:
            raise ParseError(f"{t.text.upper()}() takes 1 or 2 arguments (string[, "
                             f"characters]), got {args} at line {t.line}, "
                             f"column {t.col - len(t.text) + 1}")


def _number_question_marks(sql: str, tokens: list) -> str:
    """``?`` placeholders become ``$1, $2, ...`` in the order they are written, so that
    values bind by their position in the text (the planner compiles WHERE before the select
    list, and sqlglot's tree order puts LIMIT before WHERE). Texts that also use ``$n`` are
    left alone."""
    marks = [t for t in tokens if t.token_type == TokenType.PLACEHOLDER and t.text == "?"]
    if not marks or any(t.token_type == TokenType.PARAMETER for t in tokens):
        return sql
    out, pos = [], 0
    for n, t in enumerate(marks, 1):
        out.append(sql[pos:t.start])
        out.append(f"${n}")
        pos = t.end + 1
    out.append(sql[pos:])
    return "".join(out)


def _mark_explicit_nulls(sql: str, stmts: list[exp.Expression]) -> None:
    """Record which ORDER BY items said NULLS FIRST/LAST themselves.

    sqlglot fills in the dialect's default, so the default is found by parsing again under
    two dialects with opposite defaults: items whose value differs between them had none.
    """
    small = [s for s in sqlglot.parse(sql, read=_NullsSmall) if s is not None]
    large = [s for s in sqlglot.parse(sql, read=_NullsLarge) if s is not None]
    for s, a, b in zip(stmts, small, large):
        for o, oa, ob in zip(s.find_all(exp.Ordered), a.find_all(exp.Ordered),
                             b.find_all(exp.Ordered)):
            o.meta["explicit_nulls"] = oa.args.get("nulls_first") == ob.args.get("nulls_first")


def explicit_nulls(o: exp.Ordered) -> bool:
    return bool(o.meta.get("explicit_nulls")) if o.meta else False


_STATEMENTS = ("SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "WITH",
               "BEGIN", "COMMIT", "ROLLBACK", "EXPLAIN", "VALUES", "SET", "PRAGMA", "COPY",
               "END", "ABORT", "START")


def _describe(desc: str, highlight: str) -> str:
    """sqlglot's parser messages, reworded for people."""
    m = re.match(r"Required keyword: '(\w+)' missing for <class '[\w.]*\.(\w+)'>", desc)
    if m:
        node = m.group(2)
        clause = {"Where": "WHERE", "Having": "HAVING", "Group": "GROUP BY", "Order":
                  "ORDER BY", "Limit": "LIMIT", "Join": "JOIN"}.get(node)
        if clause:
            return f"the {clause} clause is incomplete"
        return f"an operand is missing after {highlight!r}" if highlight else \
            "an operand is missing"
    m = re.match(r"Expected (.+?) but got <Token token_type: [\w.]+, text: (.*?), line", desc)
    if m:
        return f"expected {m.group(1)}, found {m.group(2)!r}"
    if desc.startswith("Invalid expression / Unexpected token"):
        return "unexpected token"
    return desc


def _convert(e: SqlglotParseError, sql: str) -> ParseError:
    errs = e.errors or []
    if not errs:
        return ParseError(f"syntax error: {e}")
    first = errs[0]
    line, col = first.get("line"), first.get("col")
    desc = first.get("description") or "syntax error"
    highlight = first.get("highlight") or ""
    word = sql.strip().split(None, 1)[0].upper() if sql.strip() else ""
    if word and word.isalpha() and word not in _STATEMENTS:
        from sochdb.sql_names import suggest
        hint = suggest(word, _STATEMENTS)
        return ParseError(f"syntax error at line 1, column 1: {word!r} does not start a SQL "
                          f"statement{hint}", line=1, column=1)
    where = f" at line {line}, column {col}" if line is not None else ""
    near = f" near {highlight!r}" if highlight else ""
    return ParseError(f"syntax error{where}{near}: {_describe(desc, highlight)}",
                      line=line, column=col)
