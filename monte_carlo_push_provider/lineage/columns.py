"""Column-level lineage of one query tree.

sqlglot's ``lineage()`` re-qualifies the query once per output column, which is what makes plain
use slow. Here the query is qualified once (:mod:`.prepare`), scopes are built once, and every
output column is traced through derived tables, CTEs, set operations, scalar subqueries and
UDTFs with memoisation, so shared sub-expressions are walked a single time.
"""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, build_scope

from .prepare import PreparedQuery
from .timeout import NO_DEADLINE, Deadline

Edge = tuple[str, str]  # (qualified table name, column name)

# Names sqlglot invents for unnamed projections (``SELECT 1``, ``SELECT f(x)``); no real column.
_GENERATED_NAME = re.compile(r"^_col_\d+$")


class ColumnTracer:
    """Traces output columns of a prepared query back to physical table columns."""

    def __init__(self, prepared: PreparedQuery, deadline: Deadline = NO_DEADLINE) -> None:
        self._p = prepared
        self._deadline = deadline
        self.root: Scope | None = build_scope(prepared.query)
        self._scope_of: dict[int, Scope] = {}
        self._memo: dict[tuple[int, object], frozenset[Edge]] = {}
        if self.root is not None:
            for scope in self.root.traverse():
                self._scope_of[id(scope.expression)] = scope

    # ------------------------------------------------------------------ outputs
    def outputs(self) -> list[tuple[str, frozenset[Edge]]]:
        """(output column name, upstream edges) for every named projection of the root query."""
        if self.root is None:
            return []
        names = _output_names(self.root)
        result = []
        seen: set[str] = set()
        for index, name in enumerate(names):
            if name == "*" or not name or name in seen:
                # An unexpandable star (no schema) has unknown columns; a repeated name (SELECT *
                # over a join sharing ``id``) denotes the first column of that name.
                continue
            seen.add(name)
            self._deadline.check()
            result.append((name, self.trace_index(self.root, index)))
        return result

    def has_unexpanded_star(self) -> bool:
        return self.root is not None and "*" in _output_names(self.root)

    def reads_table(self, placeholder: str) -> bool:
        """Whether any column anywhere in the query resolves to the table ``placeholder``."""
        if self.root is None:
            return False
        for scope in self.root.traverse():
            for column in scope.columns:
                table = column.table or self._guess_source(scope, column.name.lower())
                source = self._source_for(scope, table)
                if isinstance(source, exp.Table) and source.name.lower() == placeholder:
                    return True
        return False

    # ------------------------------------------------------------------ tracing
    def trace_index(self, scope: Scope, index: int) -> frozenset[Edge]:
        key = (id(scope), index)
        cached = self._memo.get(key)
        if cached is not None:
            return cached
        self._memo[key] = frozenset()  # guards recursive CTEs
        expression = scope.expression
        if isinstance(expression, exp.SetOperation):
            edges: set[Edge] = set()
            for branch in scope.set_operation_scopes:
                edges |= self.trace_index(branch, index)
            result = frozenset(edges)
        elif isinstance(expression, exp.Select):
            projections = expression.expressions
            result = self._upstreams(scope, projections[index]) if index < len(projections) else frozenset()
            if _is_lateral(expression) and isinstance(expression.args.get("where"), exp.Where):
                # A lateral subquery's rows are chosen by its correlation (WHERE t1.id = t2.id):
                # those columns feed every column it produces.
                result |= self._upstreams(scope, expression.args["where"].this)
        else:
            result = self._udtf_upstreams(scope)
        self._memo[key] = result
        return result

    def trace_name(self, scope: Scope, name: str) -> frozenset[Edge]:
        key = (id(scope), name)
        cached = self._memo.get(key)
        if cached is not None:
            return cached
        self._memo[key] = frozenset()
        expression = scope.expression
        result: frozenset[Edge] = frozenset()
        if isinstance(expression, (exp.Select, exp.SetOperation)):
            names = _output_names(scope)
            if name in names:
                result = self.trace_index(scope, names.index(name))
            elif "*" in names:
                result = self._through_star(scope, name)
        else:
            result = self._udtf_upstreams(scope)
        self._memo[key] = result
        return result

    def _through_star(self, scope: Scope, name: str) -> frozenset[Edge]:
        """A column read from a derived table whose ``*`` was not expandable (no schema).

        It passes through to the star's source when that is unambiguous (``t.*`` or a single
        source); with several unknown sources it cannot be attributed and is dropped.
        """
        if isinstance(scope.expression, exp.SetOperation):
            edges: set[Edge] = set()
            for branch in scope.set_operation_scopes:
                edges |= self.trace_name(branch, name)
            return frozenset(edges)
        tables: list[str] = []
        for projection in scope.expression.expressions:
            if isinstance(projection, exp.Star):
                tables = list(scope.selected_sources)
                break
            if isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
                tables.append(projection.table)
        if len(tables) != 1:
            return frozenset()
        return self._resolve(scope, tables[0], name)

    def _udtf_upstreams(self, scope: Scope) -> frozenset[Edge]:
        """Columns produced by UNNEST / LATERAL VIEW explode / FLATTEN come from their argument."""
        return self._upstreams(scope, scope.expression, skip_alias=True)

    def _upstreams(self, scope: Scope, node: exp.Expr, skip_alias: bool = False) -> frozenset[Edge]:
        # exp.Expr: sqlglot's base of every node (Scope.expression is typed as one).
        edges: set[Edge] = set()
        stack: list[exp.Expr] = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, exp.Column):
                if isinstance(current.this, exp.Star):
                    continue
                name, table = _column_path(current), current.table
                edges |= self._resolve(scope, table, name)
                continue
            if current is not node and isinstance(current, (exp.Select, exp.SetOperation, exp.Subquery)):
                inner = current.this if isinstance(current, exp.Subquery) else current
                sub = self._scope_of.get(id(inner))
                if sub is not None and sub is not scope:
                    # A scalar / IN / EXISTS subquery: its projections feed this value.
                    for index in range(len(_output_names(sub))):
                        edges |= self.trace_index(sub, index)
                continue
            if skip_alias and isinstance(current, exp.TableAlias):
                continue
            stack.extend(current.iter_expressions())
        return frozenset(edges)

    def _source_for(self, scope: Scope, table: str) -> exp.Table | Scope | None:
        if not table:
            return None
        current: Scope | None = scope
        while current is not None:
            source = current.sources.get(table)
            if source is not None:
                return source
            current = current.parent
        return None

    def _resolve(self, scope: Scope, table: str, column: str) -> frozenset[Edge]:
        if not table:
            table = self._guess_source(scope, column)
            if not table:
                return frozenset()
        source = self._source_for(scope, table)
        if source is None:
            pivoted = self._pivot_for(scope, table)
            if pivoted is not None:
                return self._through_pivot(scope, *pivoted, column)
        if isinstance(source, exp.Table):
            real = self._p.real_name(source.name)
            return frozenset({(real, column)}) if real else frozenset()
        if isinstance(source, Scope):
            # A struct path into a derived table is traced by its top-level column.
            return self.trace_name(source, column.split(".", 1)[0])
        return frozenset()

    def _pivot_for(self, scope: Scope, alias: str) -> tuple[exp.Table, exp.Pivot] | None:
        """The table a ``PIVOT (...) AS alias`` hangs off, and the pivot."""
        for _, source in scope.selected_sources.values():
            if isinstance(source, exp.Table):
                for pivot in source.args.get("pivots") or []:
                    if not pivot.args.get("unpivot") and pivot.alias.lower() == alias:
                        return source, pivot
        return None

    def _through_pivot(self, scope: Scope, table: exp.Table, pivot: exp.Pivot, column: str) -> frozenset[Edge]:
        """A pivoted column comes from the aggregated columns and the FOR column; any other
        column of the pivot passes through from the table."""
        real = self._p.real_name(table.name)
        if not real:
            return frozenset()
        pivoted = {c.name.lower() for c in pivot.args.get("columns") or []}
        if column not in pivoted:
            return frozenset({(real, column)})
        edges: set[Edge] = set()
        for node in [*pivot.expressions, *(f.this for f in pivot.args.get("fields") or [] if isinstance(f, exp.In))]:
            for col in node.find_all(exp.Column):
                edges.add((real, _column_path(col)))
        return frozenset(edges)

    def _guess_source(self, scope: Scope, column: str) -> str:
        """Attribute a column sqlglot left unqualified (no schema, several sources).

        One source: it. Otherwise the one table whose known columns contain it, or nothing:
        a wrong guess is worse than a missing edge.
        """
        sources = scope.selected_sources
        if len(sources) == 1:
            return next(iter(sources))
        owners = [
            alias
            for alias, (node, source) in sources.items()
            if isinstance(source, exp.Table) and column in self._p.columns_of(source.name)
        ]
        return owners[0] if len(owners) == 1 else ""


def _is_lateral(select: exp.Select) -> bool:
    parent = select.parent
    return isinstance(parent, exp.Subquery) and isinstance(parent.parent, exp.Lateral)


def _output_names(scope: Scope) -> list[str]:
    expression = scope.expression
    while isinstance(expression, exp.SetOperation):
        expression = expression.left
        while isinstance(expression, exp.Subquery):
            expression = expression.this
    if not isinstance(expression, exp.Select):
        return []
    return [_projection_name(p) for p in expression.expressions]


def _projection_name(projection: exp.Expression) -> str:
    if isinstance(projection, exp.Star) or (
        isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
    ):
        return "*"
    if isinstance(projection, exp.Alias) and not isinstance(projection.args.get("alias"), exp.Identifier):
        return ""  # ``AS :name`` (a bind placeholder), not a column name
    name = projection.alias_or_name
    return "" if _GENERATED_NAME.match(name or "") else (name or "").lower()


def _column_path(column: exp.Column) -> str:
    """``widget.asset.id`` read as struct access is the upstream column ``widget.asset.id``."""
    name = column.name.lower()
    node: exp.Expression = column
    while isinstance(node.parent, exp.Dot) and node.parent.this is node:
        node = node.parent
        name += "." + node.expression.name.lower()
    return name
