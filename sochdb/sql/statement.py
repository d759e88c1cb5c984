"""What executing one statement needs: the transaction, parameters, settings and planner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from sochdb.engine.catalog import TableDef
from sochdb.sql.context import ExecContext, Settings
from sochdb.sql.planner import Planner

if TYPE_CHECKING:
    from sochdb.engine.transaction import TxnState
    from sochdb.sql.session import Session


@dataclass
class StmtCtx:
    txn: "TxnState"
    params: Any
    settings: Settings
    session: "Session"
    _param_planner: Planner | None = None
    cte_frames: list | None = None  # WITH before INSERT / UPDATE / DELETE

    def param_planner(self) -> Planner:
        """One planner per statement for numbering ``?`` placeholders in text order."""
        if self._param_planner is None:
            self._param_planner = self.planner()
        return self._param_planner

    def planner(self) -> Planner:
        p = Planner(self.txn.catalog, self.settings, self.params, self.session.registry)
        if self.cte_frames:
            p.cte_frames = list(self.cte_frames)
        return p

    def exec_ctx(self) -> ExecContext:
        return ExecContext(self.txn, self.params, self.settings, session=self.session,
                           interrupt=self.session.interrupt_event)

    @property
    def catalog(self):
        return self.txn.catalog

    def logical(self, tdef: TableDef, physical: pa.Table) -> pa.Table:
        """Physical columns (c<id>) renamed to the table's column names."""
        return physical.rename_columns([tdef.column_by_id(int(f[1:])).name
                                        for f in physical.schema.names])

    def physical(self, tdef: TableDef, logical: pa.Table) -> pa.Table:
        return pa.table([logical.column(i) for i in range(len(tdef.columns))],
                        names=[c.field for c in tdef.columns])
