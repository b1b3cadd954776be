"""Result types of :func:`extract_lineage`.

They are ``dict`` subclasses with read-only attributes: callers write ``r.in_tables`` while the
shared scorer (and JSON / XCom) sees a plain dict with the same keys, so one object serves both
without conversion.
"""

from __future__ import annotations

from collections.abc import Iterable


class ColumnRef(dict):
    """One upstream column: ``.table`` (qualified name) and ``.column``."""

    def __init__(self, table: str, column: str) -> None:
        super().__init__(table=table, column=column)

    @property
    def table(self) -> str:
        return self["table"]

    @property
    def column(self) -> str:
        return self["column"]


class ColumnLineage(dict):
    """A downstream column and the columns it is computed from."""

    def __init__(self, downstream_table: str | None, downstream_column: str, upstreams: Iterable[ColumnRef]) -> None:
        super().__init__(
            downstream_table=downstream_table, downstream_column=downstream_column, upstreams=list(upstreams)
        )

    @property
    def downstream_table(self) -> str | None:
        return self["downstream_table"]

    @property
    def downstream_column(self) -> str:
        return self["downstream_column"]

    @property
    def upstreams(self) -> list[ColumnRef]:
        return self["upstreams"]


class LineageResult(dict):
    """Tables read and written by a SQL text, and column-level lineage.

    ``temp_tables`` names the written tables that are temporary (``CREATE TEMP TABLE``, Redshift
    ``#t``, ``SELECT ... INTO #t``); ``dropped_tables`` the tables a ``DROP TABLE`` removes. The batch
    resolver uses both, and ``defined_columns`` (the full column list a CTAS / CREATE VIEW gives its
    target); they are attributes only, not part of the dict contract.
    """

    def __init__(
        self,
        in_tables: Iterable[str] = (),
        out_tables: Iterable[str] = (),
        column_lineage: Iterable[ColumnLineage] = (),
        *,
        temp_tables: Iterable[str] = (),
        dropped_tables: Iterable[str] = (),
        statement_types: Iterable[str] = (),
        defined_columns: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(
            in_tables=list(in_tables), out_tables=list(out_tables), column_lineage=list(column_lineage)
        )
        self.temp_tables: list[str] = list(temp_tables)
        self.dropped_tables: list[str] = list(dropped_tables)
        self.statement_types: list[str] = list(statement_types)
        self.defined_columns: dict[str, list[str]] = dict(defined_columns or {})

    @property
    def in_tables(self) -> list[str]:
        return self["in_tables"]

    @property
    def out_tables(self) -> list[str]:
        return self["out_tables"]

    @property
    def column_lineage(self) -> list[ColumnLineage]:
        return self["column_lineage"]
