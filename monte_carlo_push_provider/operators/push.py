"""MonteCarloPushOperator: manifests in, pycarlo pushes out, every invocation_id recorded, each
event exactly once.

One try of a task instance:

1. take the task instance's lease (a zombie try and its retry never push at the same time) and
   open its round in the checkpoint: a retry after a failed try resumes it, a try after a
   successful one (a cleared task, or ``force=True``) opens a new round;
2. **plan** (pass 1, ``utils/push_plan.py``): validate every manifest, group events into push
   units, drop query logs / lineage windows already pushed for the resource, plan size-aware
   batches, claim the UTC clock bucket for metadata, before anything is sent;
3. **send** (pass 2, ``utils/push_send.py``): read the manifests again and send each planned batch
   as it fills, checkpointing it before the next one;
4. **record**: a typed :class:`~monte_carlo_push_provider.utils.push_result.PushResult`, returned
   as a dict (XCom) and written to ``output_path`` (never over another try's file).

pycarlo is imported in ``execute`` only: DAG files that import this module stay cheap to parse.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import timedelta
from types import EllipsisType
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook
from monte_carlo_push_provider.operators.links import MonteCarloTablesLink
from monte_carlo_push_provider.utils.lineage_refresh import (
    DEFAULT_KEEP_ALIVE,
    DEFAULT_REFRESH_AFTER,
    RefreshPolicy,
)
from monte_carlo_push_provider.utils.wire import MAX_COMPRESSED_BYTES, MAX_RAW_BYTES

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

#: Column-lineage keep-alive defaults (Monte Carlo expires column lineage 10 days after its last push).
DEFAULT_COLUMN_LINEAGE_REFRESH_AFTER = DEFAULT_REFRESH_AFTER
DEFAULT_COLUMN_LINEAGE_KEEP_ALIVE = DEFAULT_KEEP_ALIVE

#: How long a try waits for another holder of the same lease (a zombie try still pushing, a
#: concurrent run pushing query logs of the same resource) before failing to be retried.
DEFAULT_LEASE_WAIT_S = 120.0


def _resolve_xcom_args(value: Any, context: Any) -> Any:
    """Resolve XComArgs inside ``value`` without Jinja-rendering any string: manifest contents
    (SQL text, descriptions) may legitimately contain ``{{ … }}`` and must be pushed verbatim."""
    from airflow.sdk.definitions._internal.mixins import ResolveMixin

    if isinstance(value, ResolveMixin):
        return value.resolve(context)
    if isinstance(value, list):
        return [_resolve_xcom_args(v, context) for v in value]
    if isinstance(value, tuple):
        return tuple(_resolve_xcom_args(v, context) for v in value)
    return value


class MonteCarloPushOperator(BaseOperator):
    """Push manifests (v1) to Monte Carlo's ingestion gateway, exactly once.

    :param manifests: one manifest, a list of them, or an XComArg resolving to either (e.g. the
        output of ``.expand()``-ed collector tasks). XComArgs resolve; manifest contents are
        **never** Jinja-rendered.
    :param monte_carlo_conn_id: the ``monte_carlo`` connection.
    :param output_path: where to write the push-result file, as a path or ``ObjectStoragePath``
        (``s3://…``, ``gs://…``). Templated. A file another try or run wrote is never
        overwritten: this try writes ``<stem>.try<N>.json`` beside it instead.
    :param resource_uuid: warehouse UUID for manifests that do not name one (default: the
        connection's ``resource_uuid``).
    :param max_compressed_bytes: the gzip size each request body stays under (default 1 MB;
        lower it, never raise it).
    :param max_raw_bytes: the raw JSON size each request body stays under (default 5 MB).
    :param strict_size: fail on an event too large to push alone instead of trimming it.
    :param request_timeout_s: per-request timeout (default: the connection's ``timeout_s``).
    :param request_deadline_s: wall-clock bound of one request, slow answers included (default:
        the timeout).
    :param max_attempts: attempts per batch for 429 / 5xx / connection errors / timeouts.
    :param push_bucket: metadata for one (resource, flow) is pushed at most once per UTC clock
        bucket of this length (default one hour: 10:00:40 and 11:00:05 are two buckets);
        ``None`` or ``0`` disables the guard. ``min_push_interval`` is the old name.
    :param flow: name of this metadata flow for the bucket guard (default ``"metadata"``).
    :param force: push everything again, ignoring the hourly bucket, the pushed ledger and this
        task instance's checkpoint (it is still written). For a deliberate re-push.
    :param skip_when_nothing_pushed: when every unit was skipped (hourly bucket, already pushed),
        end the task as *skipped* (default) instead of green; the result is in XCom either way.
    :param state_path: root of checkpoints, leases and ledgers (default
        ``[monte_carlo] state_path`` from Airflow config, else ``$MONTE_CARLO_PUSH_STATE_PATH``,
        else ``$AIRFLOW_HOME/monte_carlo_push_state``). Templated. Use shared storage on
        multi-worker deployments.
    :param lease_wait_s: how long to wait for another holder of a lease before failing (retryable).
    :param verify_resources: before the first request, check every resource UUID and its type
        against the account's warehouses (one GraphQL ``getUser`` call; skipped without a GraphQL
        key).
    :param cleanup: dropped-table cleanup (docs/cleanup.md): ``"off"`` (default), ``"dry_run"``
        (log and record the push-ingested tables that disappeared from a complete scope, delete
        nothing) or ``"delete"`` (delete them with ``deletePushIngestedTables``). Only manifests
        declaring a ``scope`` with ``complete: true`` take part, only after their metadata was
        pushed in full; the first complete push of a scope only records it. Needs the GraphQL key.
    :param cleanup_max_fraction: refuse (fail the task, delete nothing) when more than this
        fraction of a scope's previously pushed tables disappeared at once (default 0.1), if more
        than ``cleanup_min_tables`` disappeared.
    :param cleanup_min_tables: the cap's floor (default 10): up to this many disappeared tables
        of a scope are deleted whatever their fraction (1 of 5 is 20%), unless the scope now reads
        empty (every table gone: the typical lost grant or wrong database), which is always refused.
    :param cleanup_force: delete even above ``cleanup_max_fraction`` (or every table of a scope
        that reads empty), for one deliberate run.
        ``force=True`` does not lift the cap: a re-push is not a reason to delete.
    :param column_lineage_refresh_after: column lineage this operator pushed is re-pushed (its own
        unit, "column lineage refresh", with its own invocation_ids) by a later push carrying
        lineage for the same resource once it was last pushed this long ago (default 7 days; must
        be under Monte Carlo's 10-day column-lineage expiry).
    :param column_lineage_keep_alive: ...as long as it was collected in a manifest within this
        time (default 30 days); edges not seen for longer are let go (logged) and expire in Monte
        Carlo. ``0`` or ``None`` turns the keep-alive off.
    """

    template_fields = ("manifests", "output_path", "resource_uuid", "flow", "state_path")
    operator_extra_links = (MonteCarloTablesLink(),)
    ui_color = "#e8f0fe"

    def __init__(
        self,
        *,
        manifests: Any,
        monte_carlo_conn_id: str = MonteCarloHook.default_conn_name,
        output_path: str | os.PathLike[str] | ObjectStoragePath | None = None,
        resource_uuid: str | None = None,
        max_compressed_bytes: int = MAX_COMPRESSED_BYTES,
        max_raw_bytes: int | None = MAX_RAW_BYTES,
        strict_size: bool = False,
        request_timeout_s: float | None = None,
        request_deadline_s: float | None = None,
        max_attempts: int = 8,
        retry_base_delay_s: float = 1.0,
        retry_max_delay_s: float = 60.0,
        push_bucket: timedelta | float | None = timedelta(hours=1),
        min_push_interval: timedelta | float | None | EllipsisType = ...,  # ``...``: not given
        flow: str | None = None,
        force: bool = False,
        skip_when_nothing_pushed: bool = True,
        state_path: str | os.PathLike[str] | ObjectStoragePath | None = None,
        lease_wait_s: float = DEFAULT_LEASE_WAIT_S,
        verify_resources: bool = True,
        cleanup: str = "off",
        cleanup_max_fraction: float = 0.1,
        cleanup_min_tables: int = 10,
        cleanup_force: bool = False,
        column_lineage_refresh_after: timedelta | float = DEFAULT_COLUMN_LINEAGE_REFRESH_AFTER,
        column_lineage_keep_alive: timedelta | float | None = DEFAULT_COLUMN_LINEAGE_KEEP_ALIVE,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from monte_carlo_push_provider.utils.errors import MonteCarloManifestError

        if max_compressed_bytes > MAX_COMPRESSED_BYTES:
            raise MonteCarloManifestError(
                f"max_compressed_bytes={max_compressed_bytes:,} is over the gateway's "
                f"{MAX_COMPRESSED_BYTES:,}-byte limit; use a value <= {MAX_COMPRESSED_BYTES:,}"
            )
        if max_raw_bytes is not None and max_raw_bytes < 2_000:
            raise MonteCarloManifestError(f"max_raw_bytes={max_raw_bytes:,} is too small; use >= 2,000 or None")
        if max_attempts < 1:
            raise MonteCarloManifestError(f"max_attempts must be >= 1, got {max_attempts}")
        if cleanup not in ("off", "dry_run", "delete"):
            raise MonteCarloManifestError(f"cleanup must be 'off', 'dry_run' or 'delete', got {cleanup!r}")
        if not isinstance(cleanup_max_fraction, (int, float)) or not 0 < cleanup_max_fraction <= 1:
            raise MonteCarloManifestError(
                f"cleanup_max_fraction must be a fraction in (0, 1] (0.1 = refuse when more than 10% of a scope "
                f"disappears), got {cleanup_max_fraction!r}"
            )
        if isinstance(cleanup_min_tables, bool) or not isinstance(cleanup_min_tables, int) or cleanup_min_tables < 0:
            raise MonteCarloManifestError(
                f"cleanup_min_tables must be a whole number >= 0 (10 = up to 10 disappeared tables are deleted "
                f"whatever their fraction; 0 = the cap always applies), got {cleanup_min_tables!r}"
            )
        if not isinstance(min_push_interval, EllipsisType):
            push_bucket = min_push_interval  # the old name
        if isinstance(push_bucket, (int, float)):
            push_bucket = timedelta(seconds=push_bucket)
        seconds = int(push_bucket.total_seconds()) if push_bucket else 0
        if push_bucket and (seconds < 1 or (86400 % seconds and seconds % 86400)):
            raise MonteCarloManifestError(
                f"push_bucket={push_bucket} must divide a day (e.g. 15 min, 1 h, 6 h) or be whole days, "
                "so buckets line up with UTC clock hours"
            )
        self.manifests = manifests
        self.monte_carlo_conn_id = monte_carlo_conn_id
        self.output_path = output_path
        self.resource_uuid = resource_uuid
        self.max_compressed_bytes = max_compressed_bytes
        self.max_raw_bytes = max_raw_bytes
        self.strict_size = strict_size
        self.request_timeout_s = request_timeout_s
        self.request_deadline_s = request_deadline_s
        self.max_attempts = max_attempts
        self.retry_base_delay_s = retry_base_delay_s
        self.retry_max_delay_s = retry_max_delay_s
        self.push_bucket = push_bucket or None
        self.flow = flow
        self.force = force
        self.skip_when_nothing_pushed = skip_when_nothing_pushed
        self.state_path = state_path
        self.lease_wait_s = lease_wait_s
        self.verify_resources = verify_resources
        self.cleanup = cleanup
        self.cleanup_max_fraction = float(cleanup_max_fraction)
        self.cleanup_min_tables = cleanup_min_tables
        self.cleanup_force = cleanup_force
        policy = RefreshPolicy.of(column_lineage_refresh_after, column_lineage_keep_alive)  # fails early
        self.column_lineage_refresh_after = policy.refresh_after
        self.column_lineage_keep_alive = policy.keep_alive
        self._openlineage_summary: dict[str, Any] | None = None  # set by execute

    @property
    def min_push_interval(self) -> timedelta | None:  # the old name, read by older DAG code
        return self.push_bucket

    def _do_render_template_fields(self, parent: Any, template_fields: Any, context: Any, jinja_env: Any,
                                   seen_oids: set[int]) -> None:
        # ``manifests`` stays a template field so XComArgs in it set upstream dependencies, but
        # it is only resolved, never rendered: a literal manifest whose SQL contains
        # "{{ conn.x.password }}" must be pushed as written, not with the password in it.
        if parent is self and "manifests" in template_fields:
            self.manifests = _resolve_xcom_args(self.manifests, context)
            template_fields = [f for f in template_fields if f != "manifests"]
        super()._do_render_template_fields(parent, template_fields, context, jinja_env, seen_oids)

    # ------------------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.utils.push_run import PushRun

        manifests = _resolve_xcom_args(self.manifests, context)  # direct execute() calls
        if isinstance(manifests, Iterator):
            manifests = list(manifests)  # read twice below
        run = PushRun(self, context)
        with contextlib.ExitStack() as leases:
            run.open(leases)  # lease + checkpoint round
            run.plan(manifests)  # pass 1: immutable plan, nothing sent yet
            self._openlineage_summary = run.lineage_summary.result()  # of pass 1's manifests
            run.send(manifests)  # pass 2: batches, checkpoint after each
            return run.record()  # PushResult -> XCom dict; AirflowSkipException if all skipped

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: inputs = the tables the pushed manifests describe (namespace: their
        resource type), outputs = the Monte Carlo resources pushed to. A try that failed reports
        what it was pushing too. See :mod:`monte_carlo_push_provider.utils.openlineage_facets`."""
        from monte_carlo_push_provider.utils.openlineage_facets import operator_lineage

        return operator_lineage(getattr(self, "_openlineage_summary", None))

