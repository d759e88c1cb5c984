"""The shell's statement splitter: semicolons inside quotes, comments and $$ bodies, line
numbers, continuation state, and a property test against the statements it was given."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sochdb.cli.statements import Statement, StatementSplitter, split_statements


def test_semicolons_inside_quotes_comments_and_dollar_bodies_do_not_split():
    text = ("SELECT 'a;b', \"c;d\" FROM t; -- x; y\n"
            "/* one; two */ SELECT $$ e;f $$, $tag$ g;h $tag$;\n"
            "SELECT 'it''s; fine';")
    assert [s.text for s in split_statements(text)] == [
        "SELECT 'a;b', \"c;d\" FROM t;",
        "SELECT $$ e;f $$, $tag$ g;h $tag$;",
        "SELECT 'it''s; fine';",
    ]


def test_statement_lines_skip_leading_comments_and_blank_lines():
    text = "-- header\n\nSELECT 1;\n\n  /* c */\n  SELECT\n 2;\nSELECT 3"
    stmts = split_statements(text)
    assert stmts == [Statement("SELECT 1;", 3), Statement("SELECT\n 2;", 6),
                     Statement("SELECT 3", 8)]


def test_line_by_line_feeding_reports_pending_until_the_semicolon():
    s = StatementSplitter()
    assert s.feed("SELECT") == [] and s.pending
    assert s.feed("  'multi") == [] and s.pending
    assert s.feed("line';") == [Statement("SELECT\n  'multi\nline';", 1)]
    assert not s.pending
    assert s.feed("") == [] and not s.pending
    assert s.feed("  -- only a comment") == [] and not s.pending
    assert s.feed("/* open") == [] and s.pending   # an open comment keeps the prompt going
    assert s.feed("closed */") == [] and not s.pending
    out = s.feed("SELECT 1; SELECT")
    assert out == [Statement("SELECT 1;", 8)] and s.pending
    assert s.feed("2;") == [Statement("SELECT\n2;", 8)]


def test_comment_only_statements_are_dropped_and_flush_returns_the_rest():
    s = StatementSplitter()
    assert s.feed("-- nothing;") == []
    assert s.feed(";;") == []
    assert s.flush() is None
    s.feed("SELECT 42")
    assert s.flush() == Statement("SELECT 42", 3)
    assert not s.pending


def test_reset_drops_a_partial_statement():
    s = StatementSplitter()
    s.feed("SELECT 'abc")
    assert s.pending
    s.reset()
    assert not s.pending
    assert s.feed("SELECT 1;")[0].text == "SELECT 1;"


_piece = st.one_of(
    st.text(alphabet="abc 012,=()*", min_size=1, max_size=8),
    st.text(alphabet="ab;'", max_size=5).map(lambda s: "'" + s.replace("'", "''") + "'"),
    st.text(alphabet="ab;", max_size=5).map(lambda s: '"' + s + '"'),
    st.text(alphabet="ab; ", max_size=6).map(lambda s: "/*" + s + "*/"),
    st.text(alphabet="ab; ", max_size=6).map(lambda s: "$$" + s + "$$"),
    st.just("\n"),
)
_statement = st.lists(_piece, min_size=1, max_size=6).map("".join).filter(
    lambda s: s.strip() and s.strip()[0].isalnum())


@settings(max_examples=100, deadline=None)
@given(st.lists(_statement, min_size=1, max_size=5), st.booleans())
def test_split_gives_back_each_statement(stmts, by_line):
    text = "".join(s + ";\n" for s in stmts)
    if by_line:
        s = StatementSplitter()
        got = [x for line in text.split("\n") for x in s.feed(line)]
        assert s.flush() is None
    else:
        got = split_statements(text)
    assert [g.text.rstrip(";").strip() for g in got] == [s.strip() for s in stmts]
    firsts = [sum(len(p) + 2 for p in stmts[:i]) + len(s) - len(s.lstrip())
              for i, s in enumerate(stmts)]
    lines = [text.count("\n", 0, f) + 1 for f in firsts]
    assert [g.line for g in got] == lines
