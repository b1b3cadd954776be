"""A bounded, batched background sender for ETL events: the listener hands it dicts and returns.

Why a thread and a queue: listener hooks run inside the observed task's process (and inside the
scheduler's loop); a Monte Carlo outage must cost them nothing. ``submit`` never blocks and never
raises: when the queue is full the event is dropped and counted. The thread batches consecutive
events of one kind (<= 100 a request, pycarlo's limit), builds pycarlo's payload (pycarlo's
dataclasses validate every event; an invalid one is logged and skipped), and sends it through
:func:`~monte_carlo_push_provider.utils.sender.send_with_retries` with the push operator's
:class:`~monte_carlo_push_provider.utils.sender.RetryPolicy`. A batch that still fails is logged
and dropped — the task's outcome was decided before any of this ran.

Short-lived processes (a task) call :meth:`EtlSender.flush` with a deadline before they exit:
past it, retry back-off sleeps are cut short and whatever is left is dropped with a log line.
After an outage the process writes a marker file so the next task processes try once, without
back-off, until the marker expires (``OUTAGE_COOLDOWN_S``, extended by every failed try, cleared by the first
accepted request) — an outage costs each task one failed connection, not a full retry schedule.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pycarlo.core import Client

    from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloCredentials
    from monte_carlo_push_provider.utils.sender import RetryPolicy

log = logging.getLogger("monte_carlo_push_provider.listener")

MAX_BATCH = 100  # pycarlo's _check_batch_size: 1-100 events a request
PATHS = {"metadata": "/ingest/v1/etl/metadata", "runs": "/ingest/v1/etl/runs", "lineage": "/ingest/v1/lineage"}
OUTAGE_COOLDOWN_S = 300.0


class _Aborted(Exception):
    """Raised from the back-off sleep when the flush deadline passed or the sender is closing."""


@dataclass
class _Item:
    kind: str  # "metadata" | "runs" | "lineage"
    event: dict[str, Any]
    on_accepted: Callable[[str], None] | None = None
    on_failed: Callable[[], None] | None = None
    #: (uuid, resource_type) for lineage: the warehouse its tables live in, not the ETL container
    resource: tuple[str, str] | None = None

    @property
    def batch_key(self) -> tuple[str, tuple[str, str] | None]:
        return self.kind, self.resource


@dataclass
class SenderStats:
    submitted: int = 0
    sent: int = 0
    dropped_queue_full: int = 0
    dropped_invalid: int = 0
    dropped_failed: int = 0
    requests: int = 0
    invocation_ids: list[str] = field(default_factory=list)


class EtlSender:
    """Send ETL events for one Monte Carlo ETL container (``resource_uuid``) in the background.

    ``client_factory`` returns ``(client, creds)`` for ``send_with_retries``; it runs on the
    sender thread, so pycarlo is imported there and never on the caller's.
    """

    def __init__(
        self,
        *,
        resource_uuid: str,
        client_factory: Callable[[], tuple[Client, MonteCarloCredentials]],
        policy: RetryPolicy | None = None,
        request_timeout_s: float = 10.0,
        max_queue: int = 10_000,
        outage_marker: Path | None = None,
        resource_type: str = "airflow",
    ) -> None:
        self.resource_uuid = resource_uuid
        self.resource_type = resource_type
        self._client_factory = client_factory
        self._policy = policy
        self.request_timeout_s = request_timeout_s
        self._queue: queue.Queue[_Item] = queue.Queue(maxsize=max_queue)
        self._held: _Item | None = None  # first item of the next batch (another kind)
        self._pending = 0  # submitted and not yet finished (sent or dropped)
        self._cond = threading.Condition()
        self._abort = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._connection: tuple[Client, MonteCarloCredentials] | None = None  # from client_factory, once
        self._outage_marker = outage_marker
        self.stats = SenderStats()

    # -- caller side (listener hooks): never block, never raise ------------------------------

    def submit(
        self,
        kind: str,
        event: dict[str, Any],
        *,
        on_accepted: Callable[[str], None] | None = None,
        on_failed: Callable[[], None] | None = None,
        resource: tuple[str, str] | None = None,
    ) -> bool:
        item = _Item(kind, event, on_accepted, on_failed, resource)
        with self._cond:
            self._pending += 1
            self.stats.submitted += 1
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            with self._cond:
                self._pending -= 1
                self.stats.dropped_queue_full += 1
                dropped = self.stats.dropped_queue_full
                self._cond.notify_all()
            if dropped == 1 or dropped % 1000 == 0:
                log.warning("Monte Carlo ETL sender queue full: %d event(s) dropped so far", dropped)
            _call(on_failed)
            return False
        self._ensure_thread()
        return True

    def flush(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for everything submitted to be sent or dropped. On timeout,
        cut retries short (the rest is dropped and logged); True if all was handled in time."""
        deadline = time.monotonic() + max(timeout_s, 0.0)
        # A new deadline: retries cut short by an earlier flush (a long-lived process, dag.test())
        # may back off again until this one passes.
        self._abort.clear()
        with self._cond:
            while self._pending > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            pending = self._pending
        if pending:
            self._abort.set()
            log.warning(
                "Monte Carlo ETL sender: %d event(s) still unsent after %.1f s; dropping them so the "
                "process can exit (the task's own outcome is not affected)", pending, timeout_s,
            )
            return False
        return True

    def close(self, timeout_s: float = 1.0) -> None:
        self.flush(timeout_s)
        self._abort.set()

    # -- sender thread ------------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="monte-carlo-etl-sender", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                batch = self._next_batch()
            except Exception:  # pragma: no cover - defensive: the loop must survive anything
                log.exception("Monte Carlo ETL sender: unexpected error collecting a batch")
                continue
            try:
                self._send(batch)
            except Exception as exc:  # never let the thread die: later events still go out
                log.warning("Monte Carlo ETL sender: dropped %d event(s): %s", len(batch), exc)
                self._finish(batch, None, transient=True)

    def _next_batch(self) -> list[_Item]:
        first = self._held or self._queue.get()
        self._held = None
        batch = [first]
        while len(batch) < MAX_BATCH:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item.batch_key != first.batch_key:
                self._held = item  # keep order: metadata before the runs submitted after it
                break
            batch.append(item)
        return batch

    def _finish(self, batch: list[_Item], invocation_id: str | None, *, transient: bool = False) -> None:
        """Account for a handled batch. ``on_failed`` is for transient failures only (an outage):
        an event the gateway rejected would be rejected again, so it is not worth re-sending."""
        for item in batch:
            if invocation_id:
                _call(item.on_accepted, invocation_id)
            elif transient:
                _call(item.on_failed)
        with self._cond:
            self._pending -= len(batch)
            if invocation_id:
                self.stats.sent += len(batch)
            self._cond.notify_all()

    def _sleep(self, seconds: float) -> None:
        if self._abort.wait(seconds):
            raise _Aborted()

    def _effective_policy(self) -> RetryPolicy:
        from monte_carlo_push_provider.utils.sender import RetryPolicy

        policy = self._policy or RetryPolicy()
        if self._in_outage():
            # Another process just found Monte Carlo unreachable: one attempt, no back-off.
            return RetryPolicy(max_attempts=1, base_delay_s=policy.base_delay_s, max_delay_s=policy.max_delay_s)
        return policy

    def _send(self, batch: list[_Item]) -> None:
        from monte_carlo_push_provider.utils.errors import MonteCarloPushError, MonteCarloRejectedError
        from monte_carlo_push_provider.utils.sender import send_with_retries

        kind = batch[0].kind
        valid, payload = self._payload(kind, batch, batch[0].resource)
        if not valid:
            return
        if self._connection is None:
            self._connection = self._client_factory()
        client, creds = self._connection
        label = f"ETL {kind} ({len(valid)} event{'s' if len(valid) != 1 else ''})"
        try:
            result = send_with_retries(
                client, PATHS[kind], payload, creds=creds, timeout_s=self.request_timeout_s,
                policy=self._effective_policy(), label=label, sleep=self._sleep, logger=log,
            )
        except _Aborted:
            self._note_outage()
            log.warning("Monte Carlo ETL sender: %s dropped (flush deadline passed while retrying)", label)
            self._drop(valid, transient=True)
            return
        except MonteCarloPushError as exc:
            # Rejected (4xx) will not get better; anything else is transient retries running out.
            exhausted = not isinstance(exc, MonteCarloRejectedError)
            if exhausted:
                self._note_outage()
            log.warning("Monte Carlo ETL sender: %s dropped: %s", label, exc)
            self._drop(valid, transient=exhausted)
            return
        self._clear_outage()
        with self._cond:
            self.stats.requests += 1
            self.stats.invocation_ids.append(result.invocation_id)
        log.info("Monte Carlo %s sent: invocation_id=%s", label, result.invocation_id)
        self._finish(valid, result.invocation_id)

    def _drop(self, batch: list[_Item], *, transient: bool) -> None:
        with self._cond:
            self.stats.dropped_failed += len(batch)
        self._finish(batch, None, transient=transient)

    def _payload(
        self, kind: str, batch: list[_Item], resource: tuple[str, str] | None = None
    ) -> tuple[list[_Item], dict[str, Any]]:
        """pycarlo's own dataclasses and payload builder: an event pycarlo refuses is skipped."""
        from monte_carlo_push_provider.hooks.monte_carlo import quiet_pycarlo

        quiet_pycarlo()
        from pycarlo.features.ingestion.etl import (
            EtlAsset,
            EtlRunEvent,
            build_etl_metadata_payload,
            build_etl_runs_payload,
        )
        from pycarlo.features.ingestion.models import LineageEvent, build_lineage_payload

        model = {"metadata": EtlAsset, "runs": EtlRunEvent, "lineage": LineageEvent}[kind]
        valid, objects, invalid = [], [], []
        for item in batch:
            try:
                objects.append(model.from_dict(item.event))
                valid.append(item)
            except Exception as exc:  # ValueError from pycarlo's checks, KeyError for a missing field
                log.warning("Monte Carlo ETL sender: invalid %s event skipped: %s", kind, exc)
                invalid.append(item)
        if invalid:
            with self._cond:
                self.stats.dropped_invalid += len(invalid)
            self._finish(invalid, None)
        if not objects:
            return [], {}
        if kind == "lineage" and resource is not None:
            return valid, build_lineage_payload(resource_uuid=resource[0], resource_type=resource[1], events=objects)
        build = build_etl_metadata_payload if kind == "metadata" else build_etl_runs_payload
        return valid, build(resource_uuid=self.resource_uuid, resource_type=self.resource_type, events=objects)

    # -- outage marker (shared by the processes of one host) --------------------------------

    def _in_outage(self) -> bool:
        if self._outage_marker is None:
            return False
        try:
            until = float(json.loads(self._outage_marker.read_text())["until"])
        except (OSError, ValueError, KeyError, TypeError):
            return False
        return until > time.time()

    def _note_outage(self) -> None:
        if self._outage_marker is None:
            return
        try:
            self._outage_marker.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._outage_marker.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"until": time.time() + OUTAGE_COOLDOWN_S}))
            os.replace(tmp, self._outage_marker)
        except OSError:
            pass

    def _clear_outage(self) -> None:
        if self._outage_marker is not None:
            try:
                self._outage_marker.unlink(missing_ok=True)
            except OSError:
                pass


def _call(callback: Callable[..., None] | None, *args: Any) -> None:
    if callback is None:
        return
    try:
        callback(*args)
    except Exception:  # a bookkeeping callback must not take the sender down
        log.debug("Monte Carlo ETL sender callback failed", exc_info=True)
