"""Physical operators: each produces an Arrow table whose fields are its columns' fields."""

from sochdb.sql.operators.base import Operator, SingleRow, Materialized, empty_table
from sochdb.sql.operators.scan import TableScan, IndexLookup, KVScan, ValuesScan
from sochdb.sql.operators.relational import Filter, Project, Distinct, Limit, Sort
from sochdb.sql.operators.join import Join
from sochdb.sql.operators.aggregate import Aggregate
from sochdb.sql.operators.setop import SetOp
from sochdb.sql.operators.window import Window

__all__ = ["Operator", "SingleRow", "Materialized", "empty_table", "TableScan", "IndexLookup",
           "KVScan", "ValuesScan", "Filter", "Project", "Distinct", "Limit", "Sort", "Join",
           "Aggregate", "SetOp", "Window"]
