"""Table- and column-level lineage of one SQL text, on sqlglot.

``extract_lineage`` parses once, then per statement works out what is written (the target) and
which query feeds it, reads the source tables off the tree, and traces column lineage with one
qualification pass (see :mod:`.prepare` and :mod:`.columns`). DML without a SELECT of its own
(UPDATE, MERGE, INSERT ... VALUES) is rewritten into an equivalent SELECT so one tracer serves
every statement kind. ``USE`` statements change the defaults of the statements after them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, SqlglotError

from .columns import ColumnTracer
from .names import fold, fold_identifier, is_temp_name, qualified_name, qualify_parts, table_parts
from .prepare import PreparedQuery
from .results import ColumnLineage, ColumnRef, LineageResult
from .timeout import Deadline, ParseTimeout, deadline_parser

DEFAULT_MAX_CHARS = 200_000
# About 1 s of parsing on one core: room for generated statements with long IN lists, short of
# the monsters (10k-branch CASEs) that would take many seconds; the time cap covers the rest.
DEFAULT_MAX_TOKENS = 50_000
# sqlglot's own cap on the tree the parser builds (memory); a token makes at most a few nodes.
MAX_NODES_PER_TOKEN = 4
DEFAULT_TIMEOUT_S = 5.0

NormalizedSchema = Mapping[str, Mapping[str, str]]


class LineageError(ValueError):
    """A SQL text whose lineage could not be extracted."""

    #: set by the batch when the failure is cached by query shape (one warning per shape)
    shape_key: str | None = None


class UnparseableSQLError(LineageError):
    """sqlglot could not parse (or analyse) the statement."""


class QueryTooLargeError(LineageError):
    """The SQL text is over the size cap; it was not parsed."""


class LineageTimeoutError(LineageError):
    """Parsing and analysis ran over the time cap and were abandoned."""


def normalize_schema(schema: Mapping[str, Mapping[str, object]] | None, dialect: str = "") -> dict[str, dict[str, str]]:
    """``{"db.schema.table": {column: type}}`` keyed by lower-case names.

    Schema lookups ignore case (callers spell their schema however their metadata does); the
    names lineage reports keep the warehouse's case (:mod:`.names`).
    """
    if not schema:
        return {}
    out: dict[str, dict[str, str]] = {}
    for table, columns in schema.items():
        name = qualify_parts(table.lower().split("."), dialect, None, None)
        cols = out.setdefault(name, {})
        for column, type_ in (columns or {}).items():
            cols[str(column).lower()] = "" if type_ is None else str(type_)
    return out


def extract_lineage(
    sql: str,
    dialect: str | None = "",
    default_database: str | None = None,
    default_schema: str | None = None,
    schema: Mapping[str, Mapping[str, object]] | None = None,
    *,
    schemas: Mapping[str, Mapping[str, object]] | None = None,
    max_chars: int | None = DEFAULT_MAX_CHARS,
    timeout_s: float | None = DEFAULT_TIMEOUT_S,
    max_tokens: int | None = DEFAULT_MAX_TOKENS,
) -> LineageResult:
    """Tables read and written by ``sql`` and column-level lineage.

    ``schemas`` is an alias of ``schema`` (the corpus scorer's keyword). Raises
    :class:`QueryTooLargeError` over ``max_chars`` characters or ``max_tokens`` tokens,
    :class:`LineageTimeoutError` past ``timeout_s`` and :class:`UnparseableSQLError` when sqlglot
    cannot parse the text.
    """
    dialect = dialect or ""
    normalized = normalize_schema(schema if schema is not None else schemas, dialect)
    return analyze_sql(
        sql,
        dialect,
        default_database,
        default_schema,
        normalized,
        max_chars=max_chars,
        timeout_s=timeout_s,
        max_tokens=max_tokens,
    )


def analyze_sql(
    sql: str,
    dialect: str,
    default_database: str | None,
    default_schema: str | None,
    schema: NormalizedSchema,
    *,
    max_chars: int | None = DEFAULT_MAX_CHARS,
    timeout_s: float | None = DEFAULT_TIMEOUT_S,
    max_tokens: int | None = DEFAULT_MAX_TOKENS,
) -> LineageResult:
    """:func:`extract_lineage` with an already-normalised schema."""
    return merge_results(
        analyze_statements(
            sql,
            dialect,
            default_database,
            default_schema,
            schema,
            max_chars=max_chars,
            timeout_s=timeout_s,
            max_tokens=max_tokens,
        )
    )


def analyze_statements(
    sql: str,
    dialect: str,
    default_database: str | None,
    default_schema: str | None,
    schema: NormalizedSchema,
    *,
    max_chars: int | None = DEFAULT_MAX_CHARS,
    timeout_s: float | None = DEFAULT_TIMEOUT_S,
    max_tokens: int | None = DEFAULT_MAX_TOKENS,
) -> list[LineageResult]:
    """One :class:`LineageResult` per statement of ``sql`` (the batch resolver needs their order)."""
    if max_chars and len(sql) > max_chars:
        raise QueryTooLargeError(f"SQL text is {len(sql)} characters, over the cap of {max_chars}")
    context = _Context(dialect, default_database, default_schema, schema, Deadline(timeout_s))
    try:
        return _analyze(sql, context, max_tokens)
    except QueryTooLargeError:
        raise
    except ParseTimeout:
        raise LineageTimeoutError(f"lineage extraction ran over {timeout_s}s") from None
    except RecursionError:
        raise UnparseableSQLError("statement nests too deeply to parse") from None
    except SqlglotError as e:
        raise UnparseableSQLError(f"{type(e).__name__}: {str(e)[:300]}") from None
    except Exception as e:  # noqa: BLE001 - one odd statement must never take a collector down
        raise UnparseableSQLError(f"could not analyse statement: {type(e).__name__}: {str(e)[:300]}") from e


# --------------------------------------------------------------------------------------------


@dataclass
class _Context:
    dialect: str
    default_database: str | None
    default_schema: str | None
    schema: NormalizedSchema
    deadline: Deadline

    def name(self, table: exp.Table) -> str | None:
        return qualified_name(table, self.dialect, self.default_database, self.default_schema)

    def fold(self, identifier: exp.Expression) -> str:
        if isinstance(identifier, exp.Identifier):
            return fold_identifier(identifier, self.dialect)
        return fold(identifier.name, False, self.dialect)


@dataclass
class _Accumulator:
    in_tables: dict[str, None] = field(default_factory=dict)  # ordered sets
    out_tables: dict[str, None] = field(default_factory=dict)
    temp_tables: dict[str, None] = field(default_factory=dict)
    dropped: dict[str, None] = field(default_factory=dict)
    columns: list[ColumnLineage] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    defined_columns: dict[str, list[str]] = field(default_factory=dict)


def merge_results(results: list[LineageResult]) -> LineageResult:
    if len(results) == 1:
        return results[0]
    in_tables: dict[str, None] = {}
    out_tables: dict[str, None] = {}
    merged = LineageResult()
    for r in results:
        in_tables.update(dict.fromkeys(r.in_tables))
        out_tables.update(dict.fromkeys(r.out_tables))
        merged.column_lineage.extend(r.column_lineage)
        merged.temp_tables.extend(r.temp_tables)
        merged.dropped_tables.extend(r.dropped_tables)
        merged.statement_types.extend(r.statement_types)
        merged.defined_columns.update(r.defined_columns)
    merged.in_tables.extend(in_tables)
    merged.out_tables.extend(out_tables)
    return merged


def _analyze(sql: str, context: _Context, max_tokens: int | None) -> list[LineageResult]:
    dialect = Dialect.get_or_raise(context.dialect or None)
    tokens = dialect.tokenize(sql)
    if max_tokens and len(tokens) > max_tokens:
        raise QueryTooLargeError(f"SQL text is {len(tokens)} tokens, over the cap of {max_tokens}")
    context.deadline.check()
    parser = deadline_parser(
        dialect.parser_class,
        context.deadline,
        dialect=dialect,
        error_level=ErrorLevel.RAISE,
        max_nodes=MAX_NODES_PER_TOKEN * len(tokens) + 1000,
    )
    statements = parser.parse(tokens, sql)
    results = []
    for statement in statements:
        if statement is None:
            continue
        context.deadline.check()
        if isinstance(statement, exp.Use):
            _use(statement, context)
        _resolve_dynamic_identifiers(statement, context.dialect)
        acc = _Accumulator()
        _analyze_statement(statement, context, acc)
        results.append(
            LineageResult(
                acc.in_tables,
                acc.out_tables,
                acc.columns,
                temp_tables=acc.temp_tables,
                dropped_tables=acc.dropped,
                statement_types=acc.types,
                defined_columns=acc.defined_columns,
            )
        )
    return results


def _use(statement: exp.Use, context: _Context) -> None:
    """``USE [DATABASE|SCHEMA] name``: the defaults for the statements after it in this text.

    Snowflake: ``USE db`` / ``USE DATABASE db`` selects a database (and its PUBLIC schema, as
    Snowflake does), ``USE db.s`` / ``USE SCHEMA [db.]s`` a schema. Elsewhere (Databricks, Spark,
    Hive, MySQL) a one-part ``USE x`` selects the schema; ``USE CATALOG c`` the database. Other
    kinds (WAREHOUSE, ROLE, ...) change nothing lineage depends on.
    """
    kind = str(statement.args.get("kind") or "").upper()
    target = statement.this
    if not isinstance(target, exp.Table) or kind not in ("", "DATABASE", "SCHEMA", "CATALOG"):
        return
    parts = table_parts(target, context.dialect)
    if not parts:
        return
    snowflake = context.dialect == "snowflake"
    if kind == "CATALOG" or (len(parts) == 1 and (kind == "DATABASE" or (kind == "" and snowflake))):
        context.default_database = parts[0]
        context.default_schema = "PUBLIC" if snowflake and kind != "CATALOG" else None
    elif len(parts) == 1:
        context.default_schema = parts[0]
    else:
        context.default_database, context.default_schema = parts[-2], parts[-1]


def _resolve_dynamic_identifiers(statement: exp.Expression, dialect: str) -> None:
    """Snowflake ``IDENTIFIER('db.s.t')`` with a string literal is the table it names.

    A session variable (``IDENTIFIER($t)``) is unknown here and stays unresolved (no table).
    """
    for table in list(statement.find_all(exp.Table)):
        dynamic = table.this
        if not isinstance(dynamic, exp.DynamicIdentifier):
            continue
        literal = dynamic.this
        if not (isinstance(literal, exp.Literal) and literal.is_string and literal.name.strip()):
            continue
        try:
            named = exp.to_table(literal.name.strip(), dialect=dialect or None)
        except (SqlglotError, ValueError):
            continue
        for key in ("this", "db", "catalog"):
            table.set(key, named.args.get(key))


def _analyze_statement(statement: exp.Expression, context: _Context, acc: _Accumulator) -> None:
    cte_names = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}

    if isinstance(statement, exp.Select) and isinstance(statement.args.get("into"), exp.Into):
        into = statement.args["into"]
        statement.set("into", None)
        _write(acc, context, "SELECT_INTO", into.this, statement, cte_names, temporary=bool(into.args.get("temporary")))
    elif isinstance(statement, exp.Query):
        acc.types.append("SELECT")
        _read_tables(acc, context, [statement], cte_names)
        _trace(acc, context, statement, None, None, cte_names)
    elif isinstance(statement, exp.Create):
        _create(statement, context, acc, cte_names)
    elif isinstance(statement, exp.Insert):
        query = statement.expression
        if isinstance(query, exp.Query) and statement.args.get("with_") and not query.args.get("with_"):
            query.set("with_", statement.args["with_"])  # WITH c AS (...) INSERT INTO t SELECT .. FROM c
        _write(acc, context, "INSERT", statement.this, query, cte_names)
    elif isinstance(statement, exp.Update):
        _update(statement, context, acc, cte_names)
    elif isinstance(statement, exp.Merge):
        _merge(statement, context, acc, cte_names)
    elif isinstance(statement, exp.Delete):
        _delete(statement, context, acc, cte_names)
    elif isinstance(statement, exp.Alter):
        _alter(statement, context, acc)
    elif isinstance(statement, exp.Copy):
        _copy(statement, context, acc, cte_names)
    elif isinstance(statement, exp.Drop):
        acc.types.append("DROP")
        if str(statement.args.get("kind") or "").upper() in ("TABLE", "VIEW", "MATERIALIZED VIEW"):
            for table in statement.args.get("tables") or [statement.this]:
                name = context.name(table) if isinstance(table, exp.Table) else None
                if name:
                    acc.dropped[name] = None
    else:
        acc.types.append(type(statement).__name__.upper())


def _delete(statement: exp.Delete, context: _Context, acc: _Accumulator, cte_names: set[str]) -> None:
    """``DELETE [t1, t2] FROM ...``: every listed target is written (aliases resolved through the
    FROM clause); the other tables of the statement are read."""
    acc.types.append("DELETE")
    target = _target_table(statement.this)
    listed = statement.args.get("tables") or []
    if not listed:
        _add_out(acc, context, target)
        _read_tables(acc, context, [statement], cte_names, exclude={id(target)} if target else set())
        return
    source = statement.this if statement.this is not None else statement
    by_alias = {table.alias_or_name.lower(): table for table in source.find_all(exp.Table)}
    targets = set()
    for item in listed:
        table = by_alias.get(item.name.lower(), item) if isinstance(item, exp.Table) and not item.db else item
        name = _add_out(acc, context, _target_table(table))
        if name:
            targets.add(name)
    for table in statement.find_all(exp.Table):
        if any(table is item for item in listed):
            continue
        parts = table_parts(table, context.dialect)
        if parts is None or (len(parts) == 1 and parts[0].lower() in cte_names):
            continue
        name = context.name(table)
        if name and name not in targets:
            acc.in_tables[name] = None


def _alter(statement: exp.Alter, context: _Context, acc: _Accumulator) -> None:
    """``ALTER TABLE a RENAME TO b`` is lineage a -> b; ``ALTER TABLE a SWAP WITH b`` a <-> b."""
    acc.types.append("ALTER")
    target = _target_table(statement.this)
    name = _add_out(acc, context, target)
    for action in statement.args.get("actions") or []:
        other = _target_table(action.this) if isinstance(action, (exp.AlterRename, exp.SwapTable)) else None
        if other is None or not name:
            continue
        if isinstance(action, exp.AlterRename) and context.dialect != "snowflake" and target is not None:
            # Postgres, Redshift, BigQuery, ...: the new name stays in the old one's schema.
            other = other.copy()
            for key in ("db", "catalog"):
                if not other.args.get(key) and target.args.get(key):
                    other.set(key, target.args[key].copy())
        other_name = _add_out(acc, context, other)
        if not other_name:
            continue
        if isinstance(action, exp.AlterRename):
            acc.in_tables[name] = None
            acc.out_tables.pop(name, None)
        else:
            acc.in_tables[name] = None
            acc.in_tables[other_name] = None


def _copy(statement: exp.Copy, context: _Context, acc: _Accumulator, cte_names: set[str]) -> None:
    """``COPY INTO <table> FROM <stage | url | (SELECT ...)>`` writes the table; ``COPY INTO
    <stage | url> FROM <table | (SELECT ...)>`` reads the table or the query's tables."""
    acc.types.append("COPY")
    _add_out(acc, context, _target_table(statement.this))
    _read_tables(acc, context, statement.args.get("files") or [], cte_names)


def _create(statement: exp.Create, context: _Context, acc: _Accumulator, cte_names: set[str]) -> None:
    kind = str(statement.args.get("kind") or "").upper()
    if kind not in ("TABLE", "VIEW", "MATERIALIZED VIEW", "DYNAMIC TABLE", "EXTERNAL TABLE"):
        acc.types.append(f"CREATE {kind}".strip())
        return
    properties = statement.args.get("properties")
    temporary = bool(properties and properties.find(exp.TemporaryProperty))
    query = statement.expression
    if isinstance(query, exp.Subquery):  # CREATE TABLE t AS (SELECT ...)
        query = query.unnest()
    clone = statement.args.get("clone")
    if not isinstance(query, exp.Query):
        query = None
    _write(acc, context, "CREATE_VIEW" if "VIEW" in kind else "CREATE_TABLE", statement.this, query, cte_names, temporary)
    if isinstance(clone, exp.Clone):
        _read_tables(acc, context, [clone], cte_names)


def _write(
    acc: _Accumulator,
    context: _Context,
    kind: str,
    target_node: exp.Expression | None,
    query: exp.Expression | None,
    cte_names: set[str],
    temporary: bool = False,
) -> None:
    """A statement that writes ``query``'s rows into the target (CTAS, INSERT, CREATE VIEW, INTO)."""
    acc.types.append(kind)
    target = _target_table(target_node)
    target_name = _add_out(acc, context, target)
    if target_name and (temporary or is_temp_name(target_name)):
        acc.temp_tables[target_name] = None
    columns = None
    if isinstance(target_node, exp.Schema):
        columns = [
            context.fold(c.this if isinstance(c, (exp.ColumnDef, exp.Column)) else c)
            for c in target_node.expressions
            if isinstance(c, (exp.Identifier, exp.ColumnDef, exp.Column))
        ]
    if isinstance(query, exp.Values):
        _read_tables(acc, context, [query], cte_names)
        query = _values_as_select(query) if columns else None
        if query is None:
            return
    if not isinstance(query, exp.Query):
        return
    _read_tables(acc, context, [query], cte_names)
    traced = _trace(acc, context, query, target_name, columns or None, cte_names)
    if target_name and kind != "INSERT" and traced is not None and not traced[1].has_unexpanded_star():
        # CTAS / CREATE VIEW / SELECT INTO define the target's columns; the batch resolver uses
        # them to expand a later ``SELECT * FROM target`` (a temp table has no schema elsewhere).
        acc.defined_columns[target_name] = columns or [
            c.downstream_column for c in acc.columns if c.downstream_table == target_name
        ]


def _values_as_select(values: exp.Values) -> exp.Expression | None:
    """``VALUES (a, (SELECT ...)), (...)`` as ``SELECT a, (SELECT ...) UNION ALL SELECT ...`` so a
    subquery inside a row is traced like any projection. Rows without a subquery or column
    carry no lineage and are left out."""
    selects = []
    for row in values.expressions:
        items = row.expressions if isinstance(row, exp.Tuple) else [row]
        if not any(item.find(exp.Column, exp.Query) for item in items):
            continue
        selects.append(exp.Select(expressions=[exp.alias_(i.copy(), f"_v{n}", copy=False) for n, i in enumerate(items)]))
    if not selects:
        return None
    query: exp.Expression = selects[0]
    for select in selects[1:]:
        query = exp.union(query, select, distinct=False, copy=False)
    return query


def _update(statement: exp.Update, context: _Context, acc: _Accumulator, cte_names: set[str]) -> None:
    """UPDATE t SET c = e FROM s WHERE w is traced as SELECT e AS c FROM t, s WHERE w."""
    acc.types.append("UPDATE")
    target = _target_table(statement.this)
    target_name = _add_out(acc, context, target)
    others = [n for n in statement.iter_expressions() if n is not statement.this]
    _read_tables(acc, context, others, cte_names)
    if target is None:
        return
    select = exp.Select()
    for assignment in statement.expressions:
        if isinstance(assignment, exp.EQ) and isinstance(assignment.this, exp.Column):
            name = context.fold(assignment.this.this)
            select = select.select(exp.alias_(assignment.expression.copy(), name, quoted=True, copy=False), copy=False)
    if not select.expressions:
        select = select.select(exp.Literal.number(1), copy=False)
    target_copy = target.copy()
    select = select.from_(target_copy, copy=False)
    source = statement.args.get("from_")
    if isinstance(source, exp.From):
        select = select.join(source.this.copy(), join_type="cross", copy=False)
    for join in statement.args.get("joins") or []:
        select = select.join(join.copy(), copy=False)
    where = statement.args.get("where")
    if isinstance(where, exp.Where):
        select = select.where(where.this.copy(), copy=False)
    if statement.args.get("with_"):
        select.set("with_", statement.args["with_"].copy())
    tracer = _trace(acc, context, select, target_name, None, cte_names)
    if tracer is not None and target_name:
        prepared, trace = tracer
        placeholder = prepared.placeholder_of(target_copy)
        if placeholder and trace.reads_table(placeholder.lower()):
            acc.in_tables[target_name] = None  # the target is also an input when it reads itself


def _merge(statement: exp.Merge, context: _Context, acc: _Accumulator, cte_names: set[str]) -> None:
    """MERGE's WHEN clauses become one SELECT over ``source CROSS JOIN target``."""
    acc.types.append("MERGE")
    target = _target_table(statement.this)
    target_name = _add_out(acc, context, target)
    using = statement.args.get("using")
    whens = statement.args.get("whens")
    # Everything but the target itself: USING, the WITH clause, and subqueries in ON / WHEN.
    _read_tables(acc, context, [statement], cte_names, exclude={id(target)} if target is not None else set())
    if target is None or using is None:
        return
    projections: list[exp.Expression] = []
    downstream: list[str] = []
    for when in whens.expressions if isinstance(whens, exp.Whens) else []:
        then = when.args.get("then")
        if isinstance(then, exp.Update):
            for assignment in then.expressions:
                if isinstance(assignment, exp.EQ) and isinstance(assignment.this, exp.Column):
                    downstream.append(context.fold(assignment.this.this))
                    projections.append(assignment.expression.copy())
        elif isinstance(then, exp.Insert) and isinstance(then.this, exp.Tuple) and isinstance(then.expression, exp.Tuple):
            for column, value in zip(then.this.expressions, then.expression.expressions, strict=False):
                downstream.append(context.fold(column.this if isinstance(column, exp.Column) else column))
                projections.append(value.copy())
    if not projections:
        return
    select = exp.Select(expressions=[exp.alias_(p, f"_m{i}", copy=False) for i, p in enumerate(projections)])
    select = select.from_(using.copy(), copy=False).join(target.copy(), join_type="cross", copy=False)
    if statement.args.get("with_"):
        select.set("with_", statement.args["with_"].copy())
    _trace(acc, context, select, target_name, downstream, cte_names, merge_duplicates=True)


def _target_table(node: exp.Expression | None) -> exp.Table | None:
    if isinstance(node, exp.Schema):
        node = node.this
    return node if isinstance(node, exp.Table) and table_parts(node) is not None else None


def _add_out(acc: _Accumulator, context: _Context, target: exp.Table | None) -> str | None:
    name = context.name(target) if target is not None else None
    if name:
        acc.out_tables[name] = None
    return name


def _read_tables(
    acc: _Accumulator,
    context: _Context,
    roots: Sequence[exp.Expression],
    cte_names: set[str],
    exclude: set[int] | None = None,
) -> None:
    for root in roots:
        for table in root.find_all(exp.Table):
            if exclude and id(table) in exclude:
                continue
            parts = table_parts(table, context.dialect)
            if parts is None or (len(parts) == 1 and parts[0].lower() in cte_names):
                continue
            name = context.name(table)
            if name:
                acc.in_tables[name] = None


def _trace(
    acc: _Accumulator,
    context: _Context,
    query: exp.Expression,
    target_name: str | None,
    target_columns: list[str] | None,
    cte_names: set[str],
    *,
    merge_duplicates: bool = False,
) -> tuple[PreparedQuery, ColumnTracer] | None:
    """Column lineage of ``query`` into ``target_name`` (positional when target_columns is given)."""
    context.deadline.check()
    try:
        prepared = PreparedQuery(query, context.dialect, context.name, cte_names, context.schema)
        context.deadline.check()
        tracer = ColumnTracer(prepared, context.deadline)
        outputs = tracer.outputs() if target_columns is None else _positional(tracer, target_columns)
    except (SqlglotError, KeyError, AttributeError, ValueError, TypeError, IndexError):
        # Column lineage is best effort; the table lineage already recorded stays valid.
        return None
    if merge_duplicates:
        merged: dict[str, set[tuple[str, str]]] = {}
        for name, edges in outputs:
            merged.setdefault(name, set()).update(edges)
        outputs = [(name, frozenset(edges)) for name, edges in merged.items()]
    spell = prepared.spell
    for name, edges in outputs:
        acc.columns.append(
            ColumnLineage(
                target_name,
                name if target_columns is not None else spell(name),
                [ColumnRef(t, spell(c)) for t, c in sorted(edges)],
            )
        )
    return prepared, tracer


def _positional(tracer: ColumnTracer, target_columns: list[str]) -> list[tuple[str, frozenset[tuple[str, str]]]]:
    if tracer.root is None:
        return []
    return [(name, tracer.trace_index(tracer.root, i)) for i, name in enumerate(target_columns)]
