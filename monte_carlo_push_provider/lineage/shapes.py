"""Parse each query shape once: the per-batch resolver and the cross-batch LRU behind it.

A shape (:mod:`.fingerprint`) is parsed once; every later query of the shape reuses the result.
That is only correct while everything else the result depends on is the same, so the cache key
holds all of it: the dialect, the session's default database and schema, the caller's schema
(as a content hash) and the token cap. Two things are checked on every hit instead:

* **Literals that named something.** After a shape is parsed, :func:`.fingerprint.literals_named`
  checks whether one of its literals could have become a name (``IDENTIFIER('t')``, a ``PIVOT``
  value turned column, an ``AS 'alias'``). If so the shape is marked literal-sensitive and from
  then on keyed with its literal values too, so only identical texts share a result.
* **Columns the batch defined.** ``SELECT * FROM t`` expands with the columns a CTAS earlier in
  the batch gave ``t``. The resolver records which of those it consulted, and a hit is only a
  hit when they are unchanged.

Failures are not shared across batches (a timeout may be load). Within a batch a shape that
failed for three different texts is taken to fail for every text, so a common statement sqlglot
cannot parse costs three parses per batch, not one per query.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .engine import LineageError
from .fingerprint import Shape, literals_named
from .results import LineageResult

#: Shapes kept across batches in one process (a worker that runs many windows, a task that
#: emits several manifests). A busy account has a few thousand; an entry is ~4 KB (measured).
DEFAULT_CACHE_SHAPES = 10_000
FAILURE_STRIKES = 3

_SENSITIVE = object()  # marker: key this shape by its literal values too


@dataclass
class CachedShape:
    results: list[LineageResult]
    deps: dict[str, Any]  # batch-defined tables consulted -> the columns they had (None: none)
    batch: int  # which batch parsed it (to count cross-batch hits)


class ShapeCache:
    """A bounded LRU of parsed shapes, shared by the batches of one process."""

    def __init__(self, max_shapes: int = DEFAULT_CACHE_SHAPES) -> None:
        self.max_shapes = max_shapes
        self._entries: OrderedDict[tuple, Any] = OrderedDict()
        self._batches = 0

    def new_batch(self) -> int:
        self._batches += 1
        return self._batches

    def get(self, key: tuple) -> Any:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: tuple, entry: Any) -> None:
        if self.max_shapes <= 0:
            return
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_shapes:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


#: The process-wide cache :func:`.batch.build_lineage_manifest` uses unless given another.
SHAPE_CACHE = ShapeCache()


class RecordingSchema(Mapping[str, Mapping[str, str]]):
    """The caller's schema plus the columns the batch defined, recording which of the latter a
    parse consulted (the caller's schema is part of the cache key, the batch's is not)."""

    def __init__(self, user: Mapping[str, Mapping[str, str]], created: Mapping[str, Mapping[str, str]]) -> None:
        self.user = user
        self.created = created
        self.consulted: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        found = self.user.get(key)
        if found is not None:
            return found
        found = self.created.get(key)
        self.consulted[key] = found
        return default if found is None else found

    def __getitem__(self, key: str) -> Mapping[str, str]:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self) -> Iterator[str]:
        yield from self.user
        yield from (k for k in self.created if k not in self.user)

    def __len__(self) -> int:
        return len(set(self.user) | set(self.created))


def schema_token(schema: Mapping[str, Mapping[str, str]]) -> int | None:
    """A content hash of the caller's (normalised) schema, for the cache key."""
    if not schema:
        return None
    return hash(frozenset((table, frozenset(columns.items())) for table, columns in schema.items()))


def result_tables(results: list[LineageResult]) -> Iterator[str]:
    for r in results:
        yield from r.in_tables
        yield from r.out_tables
        yield from r.dropped_tables


def result_columns(results: list[LineageResult]) -> Iterator[str]:
    for r in results:
        for item in r.column_lineage:
            yield item.downstream_column
            for up in item.upstreams:
                yield up.column
        for columns in r.defined_columns.values():
            yield from columns


@dataclass
class ShapeResolver:
    """One batch's view of the cache: answers a query from its shape or says it must be parsed."""

    cache: ShapeCache
    context: tuple  # (dialect, schema token, token cap): what every key of this batch shares
    batch: int = 0
    seen: set[tuple] = field(default_factory=set)  # distinct shapes (literal-free keys)
    failures: dict[tuple, tuple[int, LineageError]] = field(default_factory=dict)
    hits: int = 0
    cross_batch_hits: int = 0
    parsed: int = 0
    sensitive: int = 0

    def key(self, shape: Shape, default_database: str | None, default_schema: str | None) -> tuple:
        base = (*self.context, default_database, default_schema, shape.key)
        self.seen.add(base)
        if self.cache.get(base) is _SENSITIVE:
            return (*base, shape.literals)
        return base

    def lookup(self, key: tuple, created: Mapping[str, Mapping[str, str]]) -> list[LineageResult] | None:
        """The cached results for ``key``, or None; raises the shape's error once it struck out."""
        entry = self.cache.get(key)
        if isinstance(entry, CachedShape) and all(created.get(t) == cols for t, cols in entry.deps.items()):
            self.hits += 1
            if entry.batch != self.batch:
                self.cross_batch_hits += 1
                entry.batch = self.batch  # count a shape once per batch
            return entry.results
        failed = self.failures.get(key)
        if failed is not None and failed[0] >= FAILURE_STRIKES:
            raise failed[1]
        return None

    def store(self, key: tuple, shape: Shape, results: list[LineageResult], consulted: dict[str, Any]) -> None:
        self.parsed += 1
        entry = CachedShape(results, dict(consulted), self.batch)
        if len(key) > len(self.context) + 3:  # already keyed by literals
            self.cache.put(key, entry)
        elif shape.literals and literals_named(shape.literals, result_tables(results), result_columns(results), shape.key):
            self.sensitive += 1
            self.cache.put(key, _SENSITIVE)
            self.cache.put((*key, shape.literals), entry)
        else:
            self.cache.put(key, entry)

    def failed(self, key: tuple, error: LineageError) -> None:
        count = self.failures.get(key, (0, error))[0] + 1
        self.failures[key] = (count, error)
