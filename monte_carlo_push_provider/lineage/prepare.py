"""Make a query tree ready for column tracing: one qualification pass, no naming surprises.

Every physical table is renamed to a one-part placeholder (``_mc_t0``) that keeps its alias, so
sqlglot's qualifier sees a flat schema of placeholders. That sidesteps two sqlglot limits: a
``MappingSchema`` needs every table at the same depth (callers mix ``db.schema.t`` with ``t``),
and dialect case rules (Snowflake upper-cases, BigQuery keeps case) would otherwise have to match
the caller's schema keys exactly. Identifiers are lower-cased and unquoted (after the real table
names are taken from them) for the same reason; the spelling of each is kept so output column
names can be reported in the warehouse's case.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import cast

from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.qualify_columns import qualify_columns
from sqlglot.optimizer.qualify_tables import qualify_tables
from sqlglot.schema import MappingSchema

from .names import fold, table_parts

PLACEHOLDER_PREFIX = "_mc_t"


class PreparedQuery:
    """A qualified copy of the query plus the placeholder -> real table mapping."""

    def __init__(
        self,
        query: exp.Expression,
        dialect: str,
        name_of: Callable[[exp.Table], str | None],
        cte_names: Collection[str],
        schema: Mapping[str, Mapping[str, str]],
    ) -> None:
        self.query = query
        self._dialect = dialect
        self.spelling: dict[str, str] = {}  # lower-case identifier -> as the warehouse stores it
        self._real: dict[str, str] = {}
        self._columns: dict[str, frozenset[str]] = {}
        self._placeholder_of_node: dict[int, str] = {}
        sqlglot_schema: dict[str, dict[str, str]] = {}
        originals: list[list[str]] = []

        tables: list[exp.Table] = []
        columns: list[exp.Column] = []
        identifiers: list[exp.Identifier] = []
        for node in query.walk():
            if isinstance(node, exp.Identifier):
                identifiers.append(node)
            elif isinstance(node, exp.Table):
                tables.append(node)
            elif isinstance(node, exp.Column) and node.args.get("db"):
                columns.append(node)

        # Real names first, from the identifiers as written (their case is the warehouse's).
        renames: list[tuple[exp.Table, str, str, list[str]]] = []
        for index, table in enumerate(tables):
            parts = table_parts(table, dialect)
            if parts is None or (len(parts) == 1 and parts[0].lower() in cte_names):
                continue
            real = name_of(table)
            if real is None:
                continue
            renames.append((table, f"{PLACEHOLDER_PREFIX}{index}", real, [p.lower() for p in parts]))

        # Then every identifier lower-case and unquoted: the qualifier matches names exactly, and
        # lookups here ignore case. How each was spelled is kept to name output columns.
        spelling = self.spelling
        for node in identifiers:
            text = node.this
            lower = text.lower()
            if lower not in spelling:
                spelling[lower] = fold(text, bool(node.args.get("quoted")), dialect)
            node.set("this", lower)
            node.set("quoted", False)

        for table, placeholder, real, parts in renames:
            self._real[placeholder] = real
            self._placeholder_of_node[id(table)] = placeholder
            originals.append(parts)
            if not table.alias:
                # Keep the table referable by its own name (``orders.id``) after the rename.
                table.set("alias", exp.TableAlias(this=exp.to_identifier(parts[-1])))
            table.set("this", exp.to_identifier(placeholder))
            table.set("db", None)
            table.set("catalog", None)
            known = schema.get(real.lower())
            if known:
                self._columns[placeholder] = frozenset(known)
                sqlglot_schema[placeholder] = _sqlglot_columns(known)

        _strip_table_paths(columns, originals)

        self.query = _qualify(query, dialect, sqlglot_schema)

    def real_name(self, placeholder: str) -> str | None:
        return self._real.get(placeholder.lower())

    def columns_of(self, placeholder: str) -> frozenset[str]:
        return self._columns.get(placeholder.lower(), frozenset())

    def spell(self, name: str) -> str:
        """A lower-case column name (or dotted struct path) of this query, in the warehouse's case.

        Spelled as the query wrote it; a name the query never wrote (it came from the schema,
        through ``*``) is folded as an unquoted identifier.
        """
        spelled = self.spelling.get(name)
        if spelled is not None:
            return spelled
        if "." in name:
            return ".".join(self.spell(part) for part in name.split("."))
        return fold(name, False, self._dialect)

    def placeholder_of(self, table: exp.Table) -> str | None:
        return self._placeholder_of_node.get(id(table))


def _sqlglot_columns(columns: Mapping[str, str]) -> dict[str, str]:
    # Nested-field keys (``widget.asset.id``) are not columns to sqlglot; their root is.
    out: dict[str, str] = {}
    for name, type_ in columns.items():
        root = name.split(".", 1)[0]
        if root == name:
            out[name] = type_ or "unknown"
        else:
            out.setdefault(root, "struct")
    return out


def _strip_table_paths(columns: list[exp.Column], originals: list[list[str]]) -> None:
    """``db.schema.t.col`` -> ``t.col`` when ``db.schema.t`` is a table of the query."""
    for column in columns:
        path = [p.name for p in (column.args.get("catalog"), column.args.get("db"), column.args.get("table")) if p]
        if any(parts[-len(path) :] == path for parts in originals if len(parts) >= len(path)):
            column.set("db", None)
            column.set("catalog", None)


def _qualify(query: exp.Expression, dialect: str, schema: dict[str, dict[str, str]]) -> exp.Expression:
    """sqlglot's qualify() minus normalisation, quoting and validation; partial on failure.

    Identifiers are already lower-case and unquoted and the schema is keyed the same way, so
    sqlglot's identifier normalisation (a full tree walk, plus one per schema key) is skipped.
    qualify_columns raises on a correlated subquery over a table with no known columns; the
    scopes it qualified before that stay usable and the tracer falls back to heuristics for the
    rest, which is better than no column lineage at all.
    """
    read = dialect or None
    try:
        # MappingSchema only reads the mapping; its annotation, dict[str, object], is invariant.
        sqlglot_schema = MappingSchema(cast("dict[str, object]", schema), dialect=read, normalize=False)
    except SqlglotError:
        sqlglot_schema = MappingSchema({}, dialect=read, normalize=False)
    query = qualify_tables(query, dialect=read)
    try:
        query = qualify_columns(query, sqlglot_schema, allow_partial_qualification=True, dialect=read)
    except (OptimizeError, SqlglotError, KeyError, ValueError, AttributeError, TypeError):
        pass
    return query
