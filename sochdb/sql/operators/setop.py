"""UNION, INTERSECT and EXCEPT, with and without ALL."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from sochdb.sql import types as T
from sochdb.sql.operators.base import Operator
from sochdb.sql.operators.relational import distinct_rows
from sochdb.sql.scope import ColumnInfo

if TYPE_CHECKING:
    from sochdb.sql.context import ExecContext


class SetOp(Operator):
    def __init__(self, left: Operator, right: Operator, kind: str, all_: bool,
                 columns: list[ColumnInfo]) -> None:
        self.left = left
        self.right = right
        self.children = (left, right)
        self.kind = kind  # union, intersect, except
        self.all = all_
        self.columns = columns

    def describe(self) -> str:
        return f"{self.kind.capitalize()}{' ALL' if self.all else ''}"

    def execute(self, ctx: "ExecContext") -> pa.Table:
        names = [c.field for c in self.columns]
        schema = pa.schema([pa.field(c.field, c.type) for c in self.columns])
        lt = _conform(self.left.execute(ctx), schema)
        rt = _conform(self.right.execute(ctx), schema)
        if self.kind == "union":
            both = pa.concat_tables([lt, rt])
            return both if self.all else distinct_rows(both)
        nl, nr = lt.num_rows, rt.num_rows
        both = pa.concat_tables([lt, rt])
        if both.num_rows == 0:
            return both
        side = np.concatenate([np.zeros(nl, np.int64), np.ones(nr, np.int64)])
        work = both.append_column("__l", pa.array(1 - side)).append_column(
            "__r", pa.array(side)).append_column("__i", pa.array(np.arange(nl + nr)))
        g = work.group_by(names, use_threads=False).aggregate(
            [("__l", "sum"), ("__r", "sum"), ("__i", "min")])
        lc = g.column("__l_sum").to_numpy()
        rc = g.column("__r_sum").to_numpy()
        first = g.column("__i_min").to_numpy()
        if self.kind == "intersect":
            reps = np.minimum(lc, rc) if self.all else ((lc > 0) & (rc > 0)).astype(np.int64)
        else:
            reps = np.maximum(lc - rc, 0) if self.all else ((lc > 0) & (rc == 0)).astype(
                np.int64)
        order = np.argsort(first, kind="stable")
        rows = np.repeat(first[order], reps[order])
        return both.take(pa.array(rows))


def _conform(t: pa.Table, schema: pa.Schema) -> pa.Table:
    t = t.rename_columns(schema.names)
    if t.schema == schema:
        return t
    cols = [T.cast(t.column(i), f.type) if t.schema.field(i).type != f.type else t.column(i)
            for i, f in enumerate(schema)]
    return pa.table(cols, schema=schema)
