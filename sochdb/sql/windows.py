"""Window functions (OVER clauses): detection here; evaluation in operators/window.py."""

from __future__ import annotations

from sqlglot import exp

from sochdb.errors import NotSupportedError


def has_windows(items, order_items) -> bool:
    for e in list(items) + list(order_items):
        if e is not None and e.find(exp.Window) is not None:
            for w in e.find_all(exp.Window):
                if w.find_ancestor(exp.Select, exp.Subquery) is None or True:
                    return True
    return False


def plan_windows(planner, op, comp, items, order_items):
    raise NotSupportedError("window functions are not supported yet")
