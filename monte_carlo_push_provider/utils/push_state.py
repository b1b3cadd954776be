"""Durable push state under one root (``state_path``): what makes a push exactly-once.

- **checkpoint** per task instance (dag, run, task, map index): every batch the gateway accepted,
  grouped in *rounds*. A retry after a failed try resumes the open round; a try after a
  successful one (a cleared task) opens a new round. Every save carries all rounds.
- **leases** (one per task instance, one per (resource, kind) for query logs and lineage): the
  holder of a lease is the only process that pushes under it. Taking one is a conditional create
  of the next generation file, so two processes cannot both win; the holder renews it after each
  batch and stops if a newer generation exists (a zombie whose lease was taken over).
- **hourly claims** per (resource, metadata flow, UTC clock bucket): created exclusively, so at
  most one run pushes metadata in a bucket.
- **pushed ledger** per (resource, kind): query-log keys (query_id, or a hash of the entry) and
  lineage windows already pushed, one append-only file per accepted batch.

Conditional create is ``os.link`` of a fully written temporary file on local disk (atomic,
never a half-written document) and ``open(mode="xb")`` on object storage (gcsfs:
``ifGenerationMatch=0``; s3fs versions with exclusive writes: ``If-None-Match: *``). A filesystem without
exclusive create falls back to exists-then-write with a warning: two processes racing within
that gap can both win (docs/reliability.md, "Limits").

The root is an ``ObjectStoragePath``: local by default, or ``s3://…`` / ``gs://…`` shared by every
worker so a retry elsewhere sees the first try's state.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from monte_carlo_push_provider.utils.errors import MonteCarloPushError

log = logging.getLogger(__name__)

STATE_PATH_ENV = "MONTE_CARLO_PUSH_STATE_PATH"
CONFIG_SECTION = "monte_carlo"
CONFIG_KEY = "state_path"
CHECKPOINT_VERSION = 2
LEASE_KEEP = 4  # lease generations kept per name (older ones are pruned)
CLAIM_KEEP = timedelta(days=7)  # hourly claims older than this are pruned


class MonteCarloStateError(MonteCarloPushError, AirflowFailException):
    """A state document is unreadable, has the wrong shape or is missing although an earlier try
    recorded it. The push refuses to guess (guessing means pushing twice or losing data): the
    message names the file and the fix. Not retryable: a retry would find the same file."""


class MonteCarloLeaseBusyError(MonteCarloPushError):
    """Another process holds the lease (a concurrent run, or a zombie try still pushing).
    Retryable: a later try finds the lease released or expired."""


def utcnow() -> datetime:
    """The wall clock every cadence decision reads (libfaketime moves it in end-to-end tests;
    in-process tests replace this function)."""
    return datetime.now(timezone.utc)


def _now() -> datetime:
    return utcnow()  # looked up at call time, so replacing ``utcnow`` moves every clock


def iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- where the state lives ---------------------------------------------------------------------


def default_state_root() -> str:
    """``[monte_carlo] state_path`` (Airflow config, so also ``AIRFLOW__MONTE_CARLO__STATE_PATH``),
    else ``$MONTE_CARLO_PUSH_STATE_PATH``, else ``$AIRFLOW_HOME/monte_carlo_push_state``."""
    configured = None
    try:
        from airflow.sdk.configuration import conf

        configured = conf.get(CONFIG_SECTION, CONFIG_KEY, fallback=None)
    except Exception:  # noqa: BLE001 - config unavailable (e.g. a bare script): use the fallbacks
        configured = None
    if configured:
        return configured
    if os.environ.get(STATE_PATH_ENV):
        return os.environ[STATE_PATH_ENV]
    home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
    return os.path.join(home, "monte_carlo_push_state")


def as_path(value: Any) -> Any:
    """An ``ObjectStoragePath`` for a str/Path/ObjectStoragePath (local paths get ``file://``)."""
    from airflow.sdk import ObjectStoragePath

    if isinstance(value, ObjectStoragePath):
        return value
    text = os.fspath(value) if not isinstance(value, str) else value
    if "://" not in text:
        text = "file://" + os.path.abspath(text)
    return ObjectStoragePath(text)


def safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", str(part))[:200] or "_"


def _local(path: Any) -> str | None:
    """The local filesystem path of ``path``, or None for object storage."""
    if getattr(path, "protocol", None) in ("file", "local") or str(path).startswith("file://"):
        local = path.path if hasattr(path, "path") else str(path)
        return local if local.startswith("/") else "/" + local
    return None


# -- document primitives -----------------------------------------------------------------------


class Unreadable(Exception):
    def __init__(self, path: Any, detail: str):
        super().__init__(f"{path}: {detail}")
        self.path = path
        self.detail = detail


def read_json(path: Any) -> Any:
    """The parsed document (gzip-compressed ones too, see :func:`write_json`), None when the file
    does not exist; :class:`Unreadable` when it exists but is not JSON (truncated, empty, binary)."""
    local = _local(path)
    try:
        if local is not None:
            with open(local, "rb") as fh:
                data = fh.read()
        else:
            if not path.exists():
                return None
            with path.open("rb") as fh:
                data = fh.read()
    except FileNotFoundError:
        return None
    try:
        if data[:2] == _GZIP_MAGIC:
            data = gzip.decompress(data)
        return json.loads(data.decode("utf-8"))
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as err:  # OSError: a torn gzip
        raise Unreadable(path, f"not valid JSON ({len(data):,} bytes; {err})") from None


def _text(document: Any) -> str:
    return json.dumps(document, indent=1, sort_keys=False, default=str)


_GZIP_MAGIC = b"\x1f\x8b"


def write_json(path: Any, document: Any, *, compressed: bool = False, compresslevel: int = 1) -> None:
    """Write a JSON document; local files are replaced atomically so a SIGKILL mid-write never
    leaves a torn checkpoint (a single object-store PUT is atomic already).

    ``compressed``: compact JSON, gzipped (level 1), for large documents rewritten often (the
    column-lineage keep-alive ledger): indented JSON goes through Python's pure-Python encoder,
    several times slower and ~10x the bytes on object storage. :func:`read_json` reads both.
    ``compresslevel``: 1 for documents rewritten often, 9 for ones written once a push and kept."""
    if compressed:
        data = gzip.compress(
            json.dumps(document, separators=(",", ":"), default=str).encode(), compresslevel=compresslevel, mtime=0,
        )
    else:
        data = _text(document).encode()
    local = _local(path)
    if local is not None:
        os.makedirs(os.path.dirname(local), exist_ok=True)
        tmp = f"{local}.tmp-{os.getpid()}"
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, local)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        fh.write(data)


_warned_no_exclusive: set[str] = set()


def create_json(path: Any, document: Any) -> bool:
    """Create ``path`` holding ``document`` only if it does not exist; True if this call created it.

    Atomic on local disk (``os.link`` of a complete temporary file) and on object stores whose
    fsspec filesystem supports ``open(mode="xb")``; elsewhere exists-then-write, with a warning.
    """
    text = _text(document).encode()
    local = _local(path)
    if local is not None:
        os.makedirs(os.path.dirname(local), exist_ok=True)
        tmp = f"{local}.new-{os.getpid()}-{time.monotonic_ns()}"
        with open(tmp, "wb") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, local)
            return True
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.fs.open(path.path, "xb") as fh:
            fh.write(text)
        return True
    except FileExistsError:
        return False
    except (ValueError, NotImplementedError, TypeError) as err:
        protocol = str(getattr(path, "protocol", "?"))
        if protocol not in _warned_no_exclusive:
            _warned_no_exclusive.add(protocol)
            log.warning(
                "state_path filesystem %r has no exclusive create (%s): leases and hourly claims fall "
                "back to check-then-write, so two processes racing within milliseconds can both push",
                protocol, err,
            )
        if path.exists():
            return False
        write_json(path, document)
        return True


def list_names(directory: Any) -> list[str]:
    local = _local(directory)
    if local is not None:
        try:
            return sorted(os.listdir(local))
        except FileNotFoundError:
            return []
    if not directory.exists():
        return []
    return sorted(p.name for p in directory.iterdir())


def remove(path: Any) -> None:
    local = _local(path)
    try:
        if local is not None:
            os.unlink(local)
        else:
            path.unlink()
    except FileNotFoundError:
        pass


def move_aside(path: Any, suffix: str) -> Any:
    """Rename ``path`` to ``<name>.<suffix>-<utc time>`` (kept for a person to inspect)."""
    target = path.parent / f"{path.name}.{suffix}-{_now().strftime('%Y%m%dT%H%M%SZ')}"
    local = _local(path)
    if local is not None:
        os.replace(local, os.path.join(os.path.dirname(local), target.name))  # same directory
    else:
        path.rename(target)
    return target


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- leases ------------------------------------------------------------------------------------


class Lease:
    """A renewable, fenced lease: generation files ``NNNNNNNN.json`` in one directory.

    The current holder is the highest generation. To take the lease a process conditionally
    creates the next generation, allowed only when the current one is released, expired, or held
    by a dead process on this host. Renewing checks that no newer generation exists (fencing).
    """

    def __init__(
        self, directory: Any, *, owner: dict[str, Any], ttl_s: float, what: str,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.dir = directory
        self.owner = owner
        self.ttl_s = ttl_s
        self.what = what
        self.clock = clock
        self.generation: int | None = None
        self.previous: dict[str, Any] | None = None  # the generation before ours
        self.waited = False  # a live holder had to finish first
        self.info: dict[str, Any] = {}
        self.history: list[dict[str, Any]] = []  # the generations before ours that are still kept

    def _path(self, generation: int) -> Any:
        return self.dir / f"{generation:08d}.json"

    def _generations(self) -> list[int]:
        return sorted(int(n[:8]) for n in list_names(self.dir) if re.fullmatch(r"\d{8}\.json", n))

    def _document(self, **extra: Any) -> dict[str, Any]:
        now = self.clock()
        return {
            "owner": self.owner, "host": socket.gethostname(), "pid": os.getpid(),
            "acquired_at": self.info.get("acquired_at") or iso(now),
            "renewed_at": iso(now), "expires_at": iso(now + timedelta(seconds=self.ttl_s)),
            "released": False, **self.info, **extra,
        }

    def _free(self, doc: dict[str, Any] | None) -> tuple[bool, str]:
        if not isinstance(doc, dict) or doc.get("released"):
            return True, "released"
        try:
            if parse_iso(doc["expires_at"]) <= self.clock():
                return True, "expired"
        except (KeyError, TypeError, ValueError):
            return True, "unreadable"
        if doc.get("host") == socket.gethostname() and isinstance(doc.get("pid"), int):
            if doc["pid"] != os.getpid() and not _pid_alive(doc["pid"]):
                return True, f"holder pid {doc['pid']} is gone"
        return False, ""

    def acquire(self, wait_s: float, poll_s: float = 0.5) -> Lease:
        deadline = time.monotonic() + wait_s
        while True:
            generations = self._generations()
            current = generations[-1] if generations else 0
            try:
                doc = read_json(self._path(current)) if current else None
            except Unreadable:
                doc = None
            free, why = self._free(doc) if current else (True, "")
            if free:
                self.info = {"acquired_at": iso(self.clock())}
                if create_json(self._path(current + 1), self._document()):
                    self.generation = current + 1
                    self.previous = doc if isinstance(doc, dict) else None
                    self.history = [d for g in generations if isinstance(d := self._read(g), dict)]
                    if why and why not in ("released", ""):
                        log.warning("%s: took over the lease of %s (%s)", self.what, _who(doc), why)
                    for old in generations[:-LEASE_KEEP]:
                        remove(self._path(old))
                    return self
                continue  # another process created that generation first: look again
            self.waited = True
            if time.monotonic() >= deadline:
                raise MonteCarloLeaseBusyError(
                    f"{self.what} is held by {_who(doc)} until {(doc or {}).get('expires_at')} "
                    f"(lease file {self._path(current)}); waited {wait_s:g} s. Another run or a "
                    "zombie try is pushing the same thing; this try will be retried. If that process "
                    "is really gone, delete the lease file."
                )
            time.sleep(poll_s)

    def _read(self, generation: int) -> Any:
        try:
            return read_json(self._path(generation))
        except Unreadable:
            return None

    def recorded_accepted(self) -> int:
        """The most accepted batches an earlier holder recorded (task instance leases)."""
        return max((int(d.get("accepted_batches") or 0) for d in self.history), default=0)

    def renew(self, **info: Any) -> None:
        """Extend the lease (after each batch); raise if a newer generation took it over."""
        assert self.generation is not None
        newer = [g for g in self._generations() if g > self.generation]
        if newer:
            try:
                doc = read_json(self._path(newer[-1]))
            except Unreadable:
                doc = None
            raise MonteCarloPushError(
                f"{self.what}: lease lost to {_who(doc)} (generation {newer[-1]} > ours "
                f"{self.generation}); stopping so two processes never push the same batches"
            )
        self.info.update(info)
        write_json(self._path(self.generation), self._document())

    def release(self, **info: Any) -> None:
        if self.generation is None:
            return
        self.info.update(info)
        try:
            if not any(g > self.generation for g in self._generations()):
                write_json(self._path(self.generation), self._document(released=True))
        finally:
            self.generation = None


def _who(doc: Any) -> str:
    if not isinstance(doc, dict):
        return "an unknown holder"
    owner = doc.get("owner") or {}
    parts = "/".join(str(owner.get(k)) for k in ("dag_id", "run_id", "task_id") if owner.get(k) is not None)
    return f"{parts or 'a process'} try {owner.get('try_number')} (host {doc.get('host')}, pid {doc.get('pid')})"


# -- checkpoint --------------------------------------------------------------------------------

CHECKPOINT_FIX = (
    "It records which batches Monte Carlo already accepted for this task instance, so the push "
    "refuses to guess. Fix: restore the file (this task's invocation_ids are in its earlier task "
    "logs and push-result files), or set force=True on the operator for one run: everything this "
    "task instance pushed before is pushed again, and the unreadable file is kept aside."
)


def _check_checkpoint(doc: Any) -> str | None:
    """Why ``doc`` is not a checkpoint this code understands, or None."""
    if not isinstance(doc, dict):
        return f"expected a JSON object, got {type(doc).__name__}"
    version = doc.get("checkpoint_version")
    if version is None and "batches" in doc:  # version 1: the push result itself
        batches = doc.get("batches")
    elif version == CHECKPOINT_VERSION:
        rounds = doc.get("rounds")
        if not isinstance(rounds, list) or not all(isinstance(r, dict) for r in rounds):
            return "rounds must be a list of objects"
        for r in rounds:
            if not isinstance(r.get("round"), int) or not isinstance(r.get("batches"), list):
                return "every round needs an integer round and a batches list"
        batches = [b for r in rounds for b in r["batches"]]
    else:
        return f"unknown checkpoint_version {version!r} (this provider writes {CHECKPOINT_VERSION})"
    if not isinstance(batches, list):
        return "batches must be a list"
    for b in batches:
        if not isinstance(b, dict) or not isinstance(b.get("fingerprint"), str) or not isinstance(
            b.get("invocation_id"), str
        ):
            return "every batch needs a fingerprint and an invocation_id string"
    return None


def load_checkpoint(path: Any) -> dict[str, Any] | None:
    """The checkpoint (upgraded to version 2), None if there is none; MonteCarloStateError if it
    cannot be trusted."""
    try:
        doc = read_json(path)
    except Unreadable as err:
        raise MonteCarloStateError(f"checkpoint {path} is unreadable: {err.detail}. {CHECKPOINT_FIX}") from None
    if doc is None:
        return None
    problem = _check_checkpoint(doc)
    if problem:
        raise MonteCarloStateError(f"checkpoint {path} has the wrong shape: {problem}. {CHECKPOINT_FIX}")
    if doc.get("checkpoint_version") is None:
        doc = {
            "checkpoint_version": CHECKPOINT_VERSION,
            **{k: doc.get(k) for k in ("dag_id", "run_id", "task_id", "map_index")},
            "rounds": [{
                "round": 1, "status": doc.get("status") or "failed", "tries": [doc.get("try_number")],
                "started_at": doc.get("started_at"), "batches": doc["batches"], "split_fingerprints": [],
            }],
        }
    return doc


# -- the state root ----------------------------------------------------------------------------


class PushState:
    """Checkpoints, leases, hourly claims and the pushed ledger under one state root."""

    def __init__(self, root: Any | None = None, *, clock: Callable[[], datetime] = _now):
        self.root = as_path(root or default_state_root())
        self.clock = clock

    # checkpoint
    def checkpoint_path(self, dag_id: str, run_id: str, task_id: str, map_index: int | None) -> Any:
        return self.root / "checkpoints" / safe(dag_id) / safe(run_id) / (_ti_name(task_id, map_index) + ".json")

    # leases
    def task_lease(self, identity: dict[str, Any], owner: dict[str, Any], ttl_s: float) -> Lease:
        directory = (self.root / "leases" / "tasks" / safe(identity["dag_id"]) / safe(identity["run_id"])
                     / _ti_name(identity["task_id"], identity["map_index"]))
        return Lease(directory, owner=owner, ttl_s=ttl_s, clock=self.clock,
                     what=f"the push of task instance {_ti_label(identity)}")

    def resource_lease(self, resource_uuid: str, kind: str, owner: dict[str, Any], ttl_s: float) -> Lease:
        directory = self.root / "leases" / "resources" / safe(resource_uuid) / safe(kind)
        return Lease(directory, owner=owner, ttl_s=ttl_s, clock=self.clock,
                     what=f"{kind} of resource {resource_uuid}")

    # hourly claims
    def claims_dir(self, resource_uuid: str, flow: str) -> Any:
        return self.root / "ledger" / safe(resource_uuid) / safe(flow)

    def legacy_ledger_path(self, resource_uuid: str, flow: str) -> Any:
        return self.root / "ledger" / safe(resource_uuid) / f"{safe(flow)}.json"

    # pushed ledger
    def pushed_dir(self, resource_uuid: str, kind: str, flavour: str) -> Any:
        return self.root / "pushed" / safe(resource_uuid) / safe(kind) / safe(flavour)


def _ti_name(task_id: str, map_index: int | None) -> str:
    return safe(task_id) + (f".{map_index}" if map_index is not None and map_index >= 0 else "")


def _ti_label(identity: dict[str, Any]) -> str:
    label = f"{identity['dag_id']}/{identity['run_id']}/{identity['task_id']}"
    return label + (f"[{identity['map_index']}]" if identity.get("map_index", -1) >= 0 else "")


# -- hourly claims -----------------------------------------------------------------------------


def bucket_start(now: datetime, bucket: timedelta) -> datetime:
    """Start of the UTC-aligned clock bucket holding ``now`` (10:59:59 and 11:00:00 differ)."""
    seconds = int(bucket.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=timezone.utc)


def claim_name(start: datetime) -> str:
    return start.strftime("%Y%m%dT%H%M%SZ") + ".json"


def _claim_time(name: str) -> datetime | None:
    match = re.fullmatch(r"(\d{8}T\d{6}Z)\.json", name)
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)


def ignore_future_claims(state: PushState, resource_uuid: str, flow: str, current: datetime,
                         warn: Callable[[str], None]) -> None:
    """Claims for buckets after ``current`` were written by a clock that ran ahead: move them
    aside with a warning (they would otherwise block a future hour in which nothing was pushed),
    and prune claims older than a week."""
    directory = state.claims_dir(resource_uuid, flow)
    for name in list_names(directory):
        when = _claim_time(name)
        if when is None:
            continue
        if when > current:
            target = move_aside(directory / name, "future-ignored")
            warn(
                f"hourly ledger entry {name} for resource {resource_uuid} (flow {flow!r}) is for a bucket "
                f"after the current one ({iso(current)}): written by a clock running ahead. Ignored "
                f"(moved to {target.name}); check NTP on the workers."
            )
        elif when < current - CLAIM_KEEP:
            remove(directory / name)


def pushed_key(event: dict[str, Any]) -> str:
    """Ledger key of a query-log entry: its query_id when it has one, else a hash of the entry."""
    query_id = event.get("query_id")
    basis = f"id:{query_id}" if query_id else "ev:" + json.dumps(event, sort_keys=True, default=str)
    return hashlib.sha256(basis.encode()).hexdigest()[:20]


#: Query-log ledger records are filed by the 5-minute slot of their entries' start time, so a push
#: reads the keys of the slots its own window's queries started in, not of a whole day (at a
#: million queries an hour, a day is 24 million keys). The start time, because it is what never
#: changes about a query (a HiveServer2 statement still running has no end yet); a window read by
#: end time holds a few long queries that started in earlier slots, each such slot a twelfth of
#: an hour's keys.
LEDGER_SLOT_MINUTES = 5


def ledger_slot(start_time: str) -> str:
    """``YYYY-MM-DD/HHMM``: where the ledger files a query-log entry that started at ``start_time``."""
    when = parse_iso(start_time)
    return f"{when:%Y-%m-%d}/{when.hour:02d}{when.minute // LEDGER_SLOT_MINUTES * LEDGER_SLOT_MINUTES:02d}"


def read_pushed(state: PushState, resource_uuid: str, kind: str, flavour: str,
                days: Iterable[str]) -> Iterable[dict[str, Any]]:
    """Ledger records (one per accepted batch) for the given UTC days (``YYYY-MM-DD``: records of
    versions before slots; lineage windows use the day ``windows``) or slots (``YYYY-MM-DD/HHMM``,
    :func:`ledger_slot`)."""
    base = state.pushed_dir(resource_uuid, kind, flavour)
    for day in sorted(set(days)):
        folder = base
        for part in day.split("/"):
            folder = folder / part
        for name in list_names(folder):
            if not name.endswith(".json"):
                continue  # a day folder also holds its slot folders
            try:
                doc = read_json(folder / name)
            except Unreadable as err:
                raise MonteCarloStateError(
                    f"pushed-ledger record {err.path} is unreadable ({err.detail}); it lists {kind} already "
                    "pushed for this resource. Delete it to push those again, or set force=True."
                ) from None
            if isinstance(doc, dict):
                yield doc


def record_pushed(state: PushState, resource_uuid: str, kind: str, flavour: str, day: str,
                  document: dict[str, Any]) -> None:
    """File ``document`` under ``day`` (a day, ``windows``, or a ``YYYY-MM-DD/HHMM`` slot)."""
    name = f"{document['invocation_id']}.json"
    folder = state.pushed_dir(resource_uuid, kind, flavour)
    for part in day.split("/"):
        folder = folder / safe(part)
    write_json(folder / safe(name), document)
