"""Query-log rows -> a lineage manifest v1, with temporary tables resolved away.

Collectors hand over the rows they read from a warehouse's query history. Queries are grouped by
shape (:mod:`.fingerprint`): each distinct shape is parsed once, under a size and a time cap
(:mod:`.engine`), and its result applied to every query of the shape (:mod:`.shapes`, which also
keeps shapes across batches in a bounded LRU). A bad statement is counted, logged once and skipped.
Writes are recorded as a graph keyed by (session, table) for session-scoped temporary tables and by
table alone otherwise. At the end every temporary node is replaced by what it was built from,
transitively, so ``A -> #t -> B`` is emitted as ``A -> B`` and no event names ``#t``.

Temporary means: ``CREATE TEMP/TEMPORARY TABLE``, Redshift ``#name``, ``SELECT ... INTO #t`` /
``INTO TEMP``, or any table the batch writes and later drops (in the same session when sessions
are known).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ..manifest import ManifestWindow, lineage_asset_ref, lineage_event, new_manifest
from .engine import (
    DEFAULT_MAX_CHARS,
    DEFAULT_MAX_TOKENS,
    DEFAULT_TIMEOUT_S,
    LineageError,
    LineageTimeoutError,
    QueryTooLargeError,
    analyze_statements,
    normalize_schema,
)
from .fingerprint import Shape, fingerprint
from .names import is_temp_name, split_name
from .results import LineageResult
from .shapes import SHAPE_CACHE, CachedShape, RecordingSchema, ShapeCache, ShapeResolver, schema_token
from .writes import may_write

log = logging.getLogger(__name__)

#: Rows of a streamed input parsed per chunk (see :func:`build_lineage_manifest`).
DEFAULT_CHUNK_ROWS = 20_000

Node = tuple[str | None, str]  # (session key for session-scoped temp tables else None, table name)


@dataclass(frozen=True)
class QueryForLineage:
    """One query-log row. Only ``query_text`` is required."""

    query_text: str
    query_id: str | None = None
    start_time: datetime | str | None = None
    user: str | None = None
    default_database: str | None = None
    default_schema: str | None = None
    session_id: str | None = None

    @classmethod
    def coerce(cls, row: QueryForLineage | Mapping[str, Any]) -> QueryForLineage:
        if isinstance(row, QueryForLineage):
            return row
        known: dict[str, Any] = {k: row.get(k) for k in cls.__dataclass_fields__ if k in row}
        return cls(**known)


@dataclass
class LineageStats:
    """Counters a collector logs after a batch (also returned in the manifest under ``stats``)."""

    queries: int = 0
    parsed: int = 0
    statements: int = 0
    skipped_unparseable: int = 0
    skipped_too_large: int = 0
    timed_out: int = 0
    skipped_empty: int = 0
    read_only: int = 0  # texts with no write keyword at all (:mod:`.writes`): neither fingerprinted nor parsed
    skipped_unqualified: int = 0  # table edges dropped: fewer than db.schema.table after defaults
    temp_tables_resolved: int = 0
    edges: int = 0  # distinct source -> destination table edges emitted
    column_edges: int = 0  # distinct source column -> destination column edges emitted
    events: int = 0
    distinct_shapes: int = 0  # query shapes (texts equal but for literals and comments)
    shapes_parsed: int = 0  # shapes parsed by this batch (the rest came from the shape cache)
    shape_cache_hits: int = 0  # queries answered from an already parsed shape
    cross_window_hits: int = 0  # shapes answered from a parse made by an earlier batch
    literal_sensitive_shapes: int = 0  # shapes whose literals named something: keyed by text
    parse_workers: int = 0  # worker processes that parsed shapes (0: all parsed in the task)
    shapes_parsed_in_workers: int = 0
    workers_killed: int = 0  # workers terminated past the time cap (statement counted timed out)
    seconds: float = 0.0  # wall-clock time of the batch

    def as_dict(self) -> dict[str, int | float]:
        return asdict(self)


# query_ids already warned about, so a query retried across batches is not logged again.
_WARNED: OrderedDict[str, None] = OrderedDict()
_WARNED_MAX = 10_000


def _warn_once(key: str, message: str, *args: object) -> None:
    if key in _WARNED:
        return
    _WARNED[key] = None
    if len(_WARNED) > _WARNED_MAX:
        _WARNED.popitem(last=False)
    log.warning(message, *args)


@dataclass
class _Graph:
    tables: dict[Node, set[Node]] = field(default_factory=dict)
    columns: dict[tuple[Node, str], set[tuple[Node, str]]] = field(default_factory=dict)
    temp: set[Node] = field(default_factory=set)
    views: set[str] = field(default_factory=set)
    written: dict[Node, int] = field(default_factory=dict)  # first write, in statement order
    dropped: dict[Node, int] = field(default_factory=dict)  # last drop
    temp_names: set[str] = field(default_factory=set)  # names temporary in some session
    #: Parsed results already recorded that name no temporary table (id -> (result, number of
    #: temp_names then)). The shape cache hands out the same result object for every query of a
    #: shape, and recording it again adds nothing to the edge sets while no new temporary name
    #: appeared, so the 100,000th run of a dbt model costs a dict lookup, not a walk of its
    #: column lineage. Holding the result keeps its id from being reused.
    settled: dict[int, tuple[Any, int]] = field(default_factory=dict)


def build_lineage_manifest(
    queries: Iterable[QueryForLineage | Mapping[str, Any]],
    *,
    dialect: str,
    resource_type: str,
    resource_uuid: str | None = None,
    default_database: str | None = None,
    default_schema: str | None = None,
    schema: Mapping[str, Mapping[str, object]] | None = None,
    window: ManifestWindow | None = None,
    max_query_chars: int = DEFAULT_MAX_CHARS,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_query_tokens: int | None = DEFAULT_MAX_TOKENS,
    shape_cache: ShapeCache | None = None,
    parse_workers: int = 0,
    on_skip: Callable[[QueryForLineage, str, str], None] | None = None,
    chunk_rows: int | None = DEFAULT_CHUNK_ROWS,
) -> tuple[dict[str, Any], LineageStats]:
    """Parse a batch of query-log rows; return (lineage manifest v1, stats).

    The manifest also carries ``stats`` (as a dict) so it survives XCom. Row-level
    ``default_database`` / ``default_schema`` (the session's current database/schema) win over the
    batch-level ones. Rows are processed in ``start_time`` order when every row has one.
    ``shape_cache`` defaults to the process-wide :data:`.shapes.SHAPE_CACHE`; pass
    ``ShapeCache(0)`` to parse every query. ``parse_workers`` > 0 parses the batch's distinct
    uncached shapes in that many worker processes first (:mod:`.pool`; used when there are at
    least ``pool.MIN_SHAPES_FOR_POOL`` of them); the result is the same as without.
    ``on_skip(row, defect, detail)``, when given, is told of every statement skipped (defect
    ``too_large``, ``timed_out`` or ``unparseable``) instead of the engine logging it: a collector
    whose rows are catalog objects (view definitions) counts them with its own skips.

    ``queries`` may be a generator (a collector streaming a window): it is then read
    ``chunk_rows`` rows at a time, and memory follows the distinct shapes and edges, not the
    number of queries. Rows are ordered by start_time within a chunk, so a streamed input must
    arrive in start_time order (the collectors' SQL orders it) for temporary tables to resolve
    across chunks; a list is sorted as a whole.
    """
    started = time.perf_counter()
    stats = LineageStats()
    dialect = dialect or ""
    user_schema = normalize_schema(schema, dialect)
    created_columns: dict[str, dict[str, str]] = {}
    cache = SHAPE_CACHE if shape_cache is None else shape_cache
    resolver = ShapeResolver(cache, (dialect, schema_token(user_schema), max_query_tokens))
    resolver.batch = cache.new_batch()
    graph = _Graph()
    order = 0
    for chunk in _chunks(queries, chunk_rows):
        rows = _in_order([QueryForLineage.coerce(r) for r in chunk])
        shapes: list[Shape | None] | None = None
        prefetched: dict[tuple, tuple[str, LineageError]] = {}
        if parse_workers > 0:
            shapes = _prefetch(
                rows, resolver, stats, prefetched, dialect=dialect, default_database=default_database,
                default_schema=default_schema, user_schema=user_schema, max_query_chars=max_query_chars,
                timeout_s=timeout_s, max_tokens=max_query_tokens, workers=parse_workers,
            )
        order = _apply(
            rows, shapes, prefetched, resolver, graph, stats, order, created_columns, dialect=dialect,
            default_database=default_database, default_schema=default_schema, user_schema=user_schema,
            max_query_chars=max_query_chars, timeout_s=timeout_s, max_query_tokens=max_query_tokens,
            on_skip=on_skip,
        )

    stats.distinct_shapes = len(resolver.seen)
    stats.shapes_parsed = resolver.parsed
    stats.shape_cache_hits = resolver.hits
    stats.cross_window_hits = resolver.cross_batch_hits
    stats.literal_sensitive_shapes = resolver.sensitive

    # A table the batch writes and later drops was scratch space: resolve through it too.
    for node, drop_order in graph.dropped.items():
        if node in graph.written and graph.written[node] < drop_order:
            graph.temp.add(node)
    stats.temp_tables_resolved = len(graph.temp)

    events = _events(graph, stats)
    manifest = new_manifest(
        "lineage",
        events,
        resource_type=resource_type,
        resource_uuid=resource_uuid,
        window=window,
        stats=stats.as_dict(),
    )
    stats.seconds = round(time.perf_counter() - started, 3)
    manifest["stats"]["seconds"] = stats.seconds
    log.info(
        "lineage: %d queries (%d read-only: nothing to parse) in %d distinct shapes: %d shape(s) parsed "
        "(%d in %d worker process(es)), "
        "%d from earlier windows' cache, %d queries answered from a parsed shape; %d events; "
        "%.2fs (%.0f queries/s)",
        stats.queries,
        stats.read_only,
        stats.distinct_shapes,
        stats.shapes_parsed,
        stats.shapes_parsed_in_workers,
        stats.parse_workers,
        stats.cross_window_hits,
        stats.shape_cache_hits,
        stats.events,
        stats.seconds,
        stats.queries / stats.seconds if stats.seconds else 0.0,
    )
    return manifest, stats


def lineage_manifest_from_queries(
    queries: Iterable[QueryForLineage | Mapping[str, Any]],
    *,
    dialect: str,
    resource_type: str,
    resource_uuid: str | None = None,
    default_database: str | None = None,
    default_schema: str | None = None,
    schema: Mapping[str, Mapping[str, object]] | None = None,
    window: ManifestWindow | None = None,
    max_query_chars: int = DEFAULT_MAX_CHARS,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_query_tokens: int | None = DEFAULT_MAX_TOKENS,
    shape_cache: ShapeCache | None = None,
    parse_workers: int = 0,
) -> dict[str, Any]:
    """:func:`build_lineage_manifest` returning only the manifest (stats are in ``manifest["stats"]``)."""
    manifest, _ = build_lineage_manifest(
        queries,
        dialect=dialect,
        resource_type=resource_type,
        resource_uuid=resource_uuid,
        default_database=default_database,
        default_schema=default_schema,
        schema=schema,
        window=window,
        max_query_chars=max_query_chars,
        timeout_s=timeout_s,
        max_query_tokens=max_query_tokens,
        shape_cache=shape_cache,
        parse_workers=parse_workers,
    )
    return manifest


# --------------------------------------------------------------------------------------------


_UNKNOWN: Any = object()  # shape not computed yet


def _shape(text: str, dialect: str) -> Shape | None:
    try:
        return fingerprint(text, dialect)
    except Exception:  # noqa: BLE001 - the tokenizer rejects it: the parse will say why
        return None


def _prefetch(
    rows: list[QueryForLineage],
    resolver: ShapeResolver,
    stats: LineageStats,
    errors: dict[tuple, tuple[str, LineageError]],
    *,
    dialect: str,
    default_database: str | None,
    default_schema: str | None,
    user_schema: Mapping[str, Mapping[str, str]],
    max_query_chars: int | None,
    timeout_s: float | None,
    max_tokens: int | None,
    workers: int,
) -> list[Shape | None]:
    """Fingerprint every row; parse one text per uncached shape in worker processes.

    Returns the rows' shapes (so the main pass does not fingerprint twice). Parsed shapes go into
    the cache; a representative's error is kept in ``errors`` for the main pass to report.
    """
    from .pool import MIN_SHAPES_FOR_POOL, ShapeTask, parse_shapes

    shapes: list[Shape | None] = []
    todo: dict[tuple, tuple[Shape, ShapeTask]] = {}
    for row in rows:
        text = row.query_text
        if not text or not text.strip() or (max_query_chars and len(text) > max_query_chars) or not may_write(text):
            shapes.append(None)
            continue
        shape = _shape(text, dialect)
        shapes.append(shape)
        if shape is None:
            continue
        database, schema = row.default_database or default_database, row.default_schema or default_schema
        key = resolver.key(shape, database, schema)
        if key not in todo and not isinstance(resolver.cache.get(key), CachedShape):
            todo[key] = (shape, ShapeTask(text, database, schema))
    if len(todo) < MIN_SHAPES_FOR_POOL:
        return shapes
    keys = list(todo)
    outcomes, pool_stats = parse_shapes(
        [todo[k][1] for k in keys], workers=workers, dialect=dialect, schema=user_schema,
        timeout_s=timeout_s, max_tokens=max_tokens,
    )
    stats.parse_workers = max(stats.parse_workers, pool_stats.workers)  # chunks add up
    stats.shapes_parsed_in_workers += pool_stats.parsed
    stats.workers_killed += pool_stats.killed
    for key, outcome in zip(keys, outcomes, strict=True):
        shape, task = todo[key]
        if outcome.results is not None:
            resolver.store(key, shape, outcome.results, outcome.consulted or {})
        elif isinstance(outcome.error, LineageError):
            errors[key] = (task.text, outcome.error)
    return shapes


def _statements(
    resolver: ShapeResolver,
    text: str,
    dialect: str,
    default_database: str | None,
    default_schema: str | None,
    user_schema: Mapping[str, Mapping[str, str]],
    created_columns: dict[str, dict[str, str]],
    *,
    timeout_s: float | None,
    max_tokens: int | None,
    shape: Shape | None = _UNKNOWN,
    prefetched: dict[tuple, tuple[str, LineageError]] | None = None,
) -> list[LineageResult]:
    """The per-statement results of ``text``: from its shape when parsed before, else parsed."""
    if shape is _UNKNOWN:
        shape = _shape(text, dialect)
    key = None
    if shape is not None:
        key = resolver.key(shape, default_database, default_schema)
        cached = resolver.lookup(key, created_columns)
        if cached is not None:
            return cached
        if prefetched and (failed := prefetched.get(key)) is not None and failed[0] == text:
            del prefetched[key]
            failed[1].shape_key = f"shape:{hash(key)}"
            resolver.failed(key, failed[1])
            raise failed[1]
    lookup = RecordingSchema(user_schema, created_columns)
    try:
        results = analyze_statements(
            text,
            dialect,
            default_database,
            default_schema,
            lookup,
            max_chars=None,
            timeout_s=timeout_s,
            max_tokens=max_tokens,
        )
    except LineageError as e:
        if key is not None:
            e.shape_key = f"shape:{hash(key)}"
            resolver.failed(key, e)
        raise
    if key is not None and shape is not None:
        resolver.store(key, shape, results, lookup.consulted)
    return results


def _chunks(queries: Iterable[Any], size: int | None) -> Iterator[list[Any]]:
    """A list or tuple is one chunk (sorted by start_time as a whole, as it always was); any
    other iterable (a collector streaming its window) is read ``size`` rows at a time, so only
    one chunk of statements is in memory: the graph keeps edges, the cache keeps shapes."""
    if isinstance(queries, (list, tuple)) or not size:
        yield list(queries)
        return
    chunk: list[Any] = []
    for row in queries:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _apply(
    rows: list[QueryForLineage], shapes: list[Shape | None] | None, prefetched: dict[tuple, tuple[str, LineageError]],
    resolver: ShapeResolver, graph: _Graph, stats: LineageStats, order: int,
    created_columns: dict[str, dict[str, str]], *, dialect: str, default_database: str | None,
    default_schema: str | None, user_schema: Mapping[str, Mapping[str, str]], max_query_chars: int,
    timeout_s: float, max_query_tokens: int | None,
    on_skip: Callable[[QueryForLineage, str, str], None] | None = None,
) -> int:
    """Parse (or look up) one chunk of rows and record their writes in ``graph``; returns the
    statement order reached."""
    for position, row in enumerate(rows):
        stats.queries += 1
        text = row.query_text
        if not text or not text.strip():
            stats.skipped_empty += 1
            continue
        if not may_write(text):
            stats.read_only += 1  # a read records nothing: no fingerprint, no parse
            continue
        key = row.query_id or f"text:{hash(text)}"
        if max_query_chars and len(text) > max_query_chars:
            stats.skipped_too_large += 1
            detail = f"{len(text)} characters, over the {max_query_chars} cap"
            if on_skip is not None:
                on_skip(row, "too_large", detail)
            else:
                _warn_once(key, "lineage: skipped query %s: %s", row.query_id, detail)
            continue
        try:
            results = _statements(
                resolver,
                text,
                dialect,
                row.default_database or default_database,
                row.default_schema or default_schema,
                user_schema,
                created_columns,
                timeout_s=timeout_s,
                max_tokens=max_query_tokens,
                shape=shapes[position] if shapes is not None else _UNKNOWN,
                prefetched=prefetched,
            )
        except LineageError as e:
            # Logged once per shape (or per query id when there is no shape): a failing dashboard
            # query run 10,000 times in the window is one warning, with its first query id.
            key = e.shape_key or key
            args: tuple[object, ...]
            if isinstance(e, QueryTooLargeError):
                stats.skipped_too_large += 1
                defect, message, args = "too_large", "lineage: skipped query %s: %s", (row.query_id, e)
            elif isinstance(e, LineageTimeoutError):
                stats.timed_out += 1
                defect = "timed_out"
                message, args = "lineage: skipped query %s: parsing ran over %ss: %.200s", (row.query_id, timeout_s, text)
            else:
                stats.skipped_unparseable += 1
                defect = "unparseable"
                message, args = "lineage: skipped unparseable query %s (%s): %.200s", (row.query_id, e, text)
            if on_skip is not None:
                on_skip(row, defect, str(e))
            else:
                _warn_once(key, message, *args)
            continue
        stats.parsed += 1
        session = row.session_id or None
        for result in results:
            stats.statements += 1
            order += 1
            _record(graph, result, session, order, created_columns, user_schema)

    return order


def _in_order(rows: list[QueryForLineage]) -> list[QueryForLineage]:
    """Rows by start_time (stable) when all rows have one; otherwise as given."""
    keys = []
    for row in rows:
        ts = row.start_time
        if isinstance(ts, str):
            try:
                ts = datetime.fromisoformat(ts.replace("Z", "+00:00"))
            except ValueError:
                return rows
        if not isinstance(ts, datetime):
            return rows
        keys.append(ts.timestamp() if ts.tzinfo else ts.replace(tzinfo=None).timestamp())
    return [row for _, row in sorted(zip(keys, rows, strict=True), key=lambda pair: pair[0])]


def _record(
    graph: _Graph,
    result: Any,
    session: str | None,
    order: int,
    created_columns: dict[str, dict[str, str]],
    user_schema: Mapping[str, Any],
) -> None:
    explicit_temp = set(result.temp_tables)
    temporary = bool(explicit_temp)  # whether a name of the result is (or may become) temporary

    def node(name: str) -> Node:
        nonlocal temporary
        if is_temp_name(name):
            temporary = True
            return (session, name)
        if name in graph.temp_names:
            temporary = True
            if (session, name) in graph.temp:
                return (session, name)
        return (None, name)

    for name in explicit_temp:
        graph.temp.add((session, name))
        graph.temp_names.add(name)
    for name in result.dropped_tables:
        graph.dropped[node(name)] = order
    if "CREATE_VIEW" in result.statement_types:
        graph.views.update(result.out_tables)
    for name, columns in result.defined_columns.items():
        if name.lower() not in user_schema and columns:
            created_columns[name.lower()] = dict.fromkeys((c.lower() for c in columns), "")

    settled = graph.settled.get(id(result))
    if settled is not None and settled[0] is result and settled[1] == len(graph.temp_names):
        return  # recorded before, with the same temporary names: its edges are in the graph
    sources = {node(name) for name in result.in_tables}
    for name in result.out_tables:
        target = node(name)
        graph.written.setdefault(target, order)
        graph.tables.setdefault(target, set()).update(sources - {target})
    for item in result.column_lineage:
        if item.downstream_table is None:
            continue
        target = node(item.downstream_table)
        upstream = graph.columns.setdefault((target, item.downstream_column), set())
        upstream.update((node(u.table), u.column) for u in item.upstreams)
    if not temporary:
        graph.settled[id(result)] = (result, len(graph.temp_names))


def _expand_tables(graph: _Graph, start: Node) -> set[str]:
    """Real tables ``start`` stands for: itself, or (for a temp table) what it was built from."""
    out: set[str] = set()
    stack, seen = [start], {start}
    while stack:
        current = stack.pop()
        # A '#name' is session-temporary even when this batch never saw it created (its session
        # began before the window): never a real table, so it contributes only known sources.
        if current not in graph.temp and not is_temp_name(current[1]):
            out.add(current[1])
            continue
        for source in graph.tables.get(current, ()):
            if source not in seen:
                seen.add(source)
                stack.append(source)
    return out


def _expand_column(graph: _Graph, start: tuple[Node, str]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    stack, seen = [start], {start}
    while stack:
        current = stack.pop()
        if current[0] not in graph.temp and not is_temp_name(current[0][1]):
            out.add((current[0][1], current[1]))
            continue
        for source in graph.columns.get(current, ()):
            if source not in seen:
                seen.add(source)
                stack.append(source)
    return out


def _asset_ref(name: str, views: set[str], asset_id: str | None = None) -> dict[str, Any] | None:
    split = split_name(name)
    if split is None:
        return None
    database, schema, table = split
    return lineage_asset_ref(
        name=table,
        database=database,
        schema=schema,
        type="VIEW" if name in views else "TABLE",
        asset_id=asset_id or name.lower(),
    )


def _asset_ids(names: list[str]) -> dict[str, str]:
    """The event-local ids linking ``fields`` to ``sources``: the lower-case name, unless two
    names of the event differ only in case (quoted Snowflake / BigQuery names), then the name."""
    lowered: dict[str, int] = {}
    for name in names:
        lowered[name.lower()] = lowered.get(name.lower(), 0) + 1
    return {name: name.lower() if lowered[name.lower()] == 1 else name for name in names}


def _events(graph: _Graph, stats: LineageStats) -> list[dict[str, Any]]:
    columns_by_target: dict[Node, list[tuple[str, set[tuple[Node, str]]]]] = {}
    for (target, column), upstream in graph.columns.items():
        columns_by_target.setdefault(target, []).append((column, upstream))

    events = []
    for target in sorted(graph.tables, key=lambda n: n[1]):
        if target in graph.temp or is_temp_name(target[1]):
            continue
        name = target[1]
        sources: set[str] = set()
        for source in graph.tables[target]:
            sources |= _expand_tables(graph, source)
        sources.discard(name)  # UPDATE t ... FROM t reads itself; that is not lineage
        if not sources:
            continue
        ids = _asset_ids([name, *sources])
        destination = _asset_ref(name, graph.views, ids[name])
        if destination is None:
            stats.skipped_unqualified += len(sources)
            continue
        refs = {}
        for source_name in sorted(sources):
            ref = _asset_ref(source_name, graph.views, ids[source_name])
            if ref is None:
                stats.skipped_unqualified += 1
            else:
                refs[source_name] = ref
        if not refs:
            continue
        fields: dict[str, list[tuple[str, str]]] = {}
        for column, upstream in sorted(columns_by_target.get(target, []), key=lambda pair: pair[0]):
            resolved: set[tuple[str, str]] = set()
            for item in upstream:
                resolved |= _expand_column(graph, item)
            pairs = sorted((ids[t], c) for t, c in resolved if t in refs and t != name)
            if pairs:
                fields[column] = pairs
        stats.edges += len(refs)
        stats.column_edges += sum(len(p) for p in fields.values())
        events.append(lineage_event(destination, list(refs.values()), fields or None))
    stats.events = len(events)
    return events
