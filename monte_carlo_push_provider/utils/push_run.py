"""One try of a push task instance: lease and round -> plan -> send -> record.

``MonteCarloPushOperator.execute`` calls the four steps in order; this module holds the state
they share (identity, leases, checkpoint round, result) so each step reads on its own.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook
from monte_carlo_push_provider.utils.lineage_refresh import (
    MAX_EDGES,
    REFRESH_EVENT_TYPE,
    REFRESH_FLOW,
    KeepAliveLedger,
    RefreshPolicy,
    describe,
    edge_key,
    human_span,
)
from monte_carlo_push_provider.utils.push_plan import (
    ASSET_SAMPLE,
    WINDOWS_DAY,
    Ownership,
    PushedLedger,
    PushPlan,
    PushUnit,
    already_pushed_skips,
    apply_cadence,
    iso_time,
    owner_record,
    parse_time,
    plan_push,
)
from monte_carlo_push_provider.utils.push_result import BatchRecord, PushResult
from monte_carlo_push_provider.utils.push_send import RoundCheckpoint, Sender, human_duration, human_size
from monte_carlo_push_provider.utils.push_state import (
    CHECKPOINT_VERSION,
    Lease,
    MonteCarloStateError,
    PushState,
    Unreadable,
    as_path,
    create_json,
    iso,
    load_checkpoint,
    move_aside,
    pushed_key,
    read_json,
    record_pushed,
    remove,
)
from monte_carlo_push_provider.utils.push_state import (
    _now as utcnow,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
    from monte_carlo_push_provider.utils.push_cleanup import ScopeTracker


class ResultFile:
    """The push-result file of this try: the rendered ``output_path`` if free (or already this
    try's), else ``<stem>.try<N><suffix>`` (then ``.try<N>.2`` …): never another try's file."""

    def __init__(self, path: Any, identity: dict[str, Any], try_number: int | None, round_: int):
        self.requested = as_path(path)
        self.mine = {**identity, "try_number": try_number, "round": round_}
        self.path: Any = None

    def write(self, document: dict[str, Any]) -> None:
        from monte_carlo_push_provider.utils import push_state

        if self.path is not None:
            push_state.write_json(self.path, document)
            return
        stem, suffix = self.requested.stem, self.requested.suffix
        n = self.mine["try_number"]
        candidates = [self.requested, self.requested.parent / f"{stem}.try{n}{suffix}"]
        candidates += [self.requested.parent / f"{stem}.try{n}.{k}{suffix}" for k in range(2, 100)]
        for candidate in candidates:
            if create_json(candidate, document):
                self.path = candidate
                return
            try:
                existing = read_json(candidate) or {}
            except Unreadable:
                continue
            if isinstance(existing, dict) and all(existing.get(k) == v for k, v in self.mine.items()):
                self.path = candidate
                push_state.write_json(candidate, document)
                return
        raise MonteCarloStateError(f"no free push-result file name next to {self.requested} (tried 100)")


class PushRun:
    def __init__(self, operator: MonteCarloPushOperator, context: Context) -> None:
        self.op = operator
        self.log = operator.log
        self.hook = MonteCarloHook(operator.monte_carlo_conn_id)
        self.creds = self.hook.get_credentials()
        self.creds.require_ingestion_key()
        ti = context["ti"]
        self.ti = ti
        self.identity: dict[str, Any] = {  # dag_id, run_id, task_id, map_index
            "dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id,
            "map_index": getattr(ti, "map_index", -1),
        }
        self.try_number = getattr(ti, "try_number", None)
        self.state = PushState(operator.state_path)
        self.timeout_s = float(operator.request_timeout_s or self.creds.timeout_s)
        # A lease outlives the slowest single batch (all its attempts) between two renewals.
        self.ttl_s = max(600.0, operator.max_attempts * (self.timeout_s + operator.retry_max_delay_s) + 60)
        self.leases: list[Lease] = []
        self.resource_leases: dict[tuple[str, str], Lease] = {}
        self.flow = operator.flow or "metadata"
        self.claims: list[Any] = []
        self.plan_: PushPlan | None = None
        self.lineage_windows: list[tuple[str, str, dict[str, str]]] = []
        # column-lineage keep-alive (utils/lineage_refresh.py)
        self.refresh_policy = RefreshPolicy.of(operator.column_lineage_refresh_after,
                                               operator.column_lineage_keep_alive)
        self.lineage_slots: list[tuple[str | None, str]] = []  # (manifest resource_uuid, resource_type)
        # (uuid, type, event, seen at, (manifest index, event index))
        self.lineage_seen: list[tuple[str | None, str, dict[str, Any], Any, tuple[int, int]]] = []
        self.keepalive: dict[tuple[str, str], KeepAliveLedger] = {}
        self.refresh_manifests: list[dict[str, Any]] = []
        self.output: ResultFile | None = None
        from monte_carlo_push_provider.manifest import Preflight

        self.preflight = Preflight(default_resource_uuid=operator.resource_uuid or self.creds.resource_uuid)
        from monte_carlo_push_provider.utils.openlineage_facets import LineageSummary

        self.lineage_summary = LineageSummary()  # the push operator's OpenLineage inputs/outputs
        self.scopes: ScopeTracker | None = None  # dropped-table cleanup: what each scope pushed (utils/push_cleanup.py)
        if getattr(operator, "cleanup", "off") != "off":
            from monte_carlo_push_provider.utils.push_cleanup import ScopeTracker

            self.scopes = ScopeTracker()

    # -- 1. lease and round ------------------------------------------------------------------

    def open(self, stack: contextlib.ExitStack) -> None:
        self.stack = stack
        owner = {**self.identity, "try_number": self.try_number}
        lease = self.state.task_lease(self.identity, owner, self.ttl_s).acquire(self.op.lease_wait_s)
        self.leases.append(lease)
        stack.callback(self._release_leases)
        if lease.waited:
            self.log.warning("waited for another try of this task instance to finish pushing (a zombie or a "
                             "concurrent retry); resuming what it recorded")
        self.checkpoint = self._open_round(lease)
        number = self.checkpoint.round["round"]
        self.ownership = Ownership(self.identity, number, self.op.force)
        now = iso(utcnow())
        self.result = PushResult(
            **self.identity, try_number=self.try_number, started_at=self.checkpoint.round.get("started_at") or now,
            updated_at=now, round=number,
        )
        for data in self.checkpoint.round["batches"]:
            self.result.add_batch(replace(BatchRecord.from_dict(data), resumed=True))
        if self.result.batches:
            tries = sorted({b.try_number for b in self.result.batches if b.try_number is not None})
            self.log.info(
                "resuming round %d of this task instance: %d batch(es), %s events already accepted by try %s "
                "(invocation_ids %s); only the rest is sent", number, len(self.result.batches),
                f"{self.result.totals.events:,}", ", ".join(map(str, tries)) or "?",
                ", ".join(self.result.invocation_ids),
            )
        if self.op.output_path:
            self.output = ResultFile(self.op.output_path, self.identity, self.try_number, number)

    def _open_round(self, lease: Lease) -> RoundCheckpoint:
        from monte_carlo_push_provider.utils import push_state

        path = self.state.checkpoint_path(**self.identity)
        try:
            document = load_checkpoint(path)
        except MonteCarloStateError:
            if not self.op.force:
                raise
            moved = move_aside(path, "unreadable")
            self.log.warning("force=True: ignoring the unreadable checkpoint (kept as %s)", moved)
            document = None
        recorded = lease.recorded_accepted()
        if document is None and recorded and not self.op.force:
            raise MonteCarloStateError(
                f"checkpoint {path} is missing, but earlier tries of this task instance (lease {lease.dir}) "
                f"recorded {recorded} accepted batch(es) in it. Pushing again would duplicate them. Restore "
                "the file from backup, or set force=True for one run to push everything again."
            )
        if document is None:
            document = {"checkpoint_version": CHECKPOINT_VERSION, **self.identity, "rounds": []}
        rounds = document["rounds"]
        last = rounds[-1] if rounds else None
        finished = last is not None and last.get("status") in ("success", "skipped")
        if last is None or self.op.force or (finished and not lease.waited):
            number = (last["round"] + 1) if last else 1
            if last is not None:
                why = "force=True" if self.op.force else f"round {last['round']} ended {last.get('status')} (task cleared)"
                self.log.info("%s: opening round %d; everything is pushed again", why, number)
            last = {"round": number, "status": "running", "tries": [], "started_at": iso(utcnow()),
                    "batches": [], "split_fingerprints": []}
            rounds.append(last)
        if self.try_number not in last["tries"]:
            last["tries"].append(self.try_number)
        return RoundCheckpoint(path, document, last, lambda p, d: push_state.write_json(p, d))

    def _lock(self, resource_uuid: str, kind: str) -> None:
        """Hold the (resource, kind) lease from planning to the end: no other run reads the pushed
        ledger of this resource between our check and our record."""
        if (resource_uuid, kind) in self.resource_leases:
            return
        owner = {**self.identity, "try_number": self.try_number}
        lease = self.state.resource_lease(resource_uuid, kind, owner, self.ttl_s).acquire(self.op.lease_wait_s)
        if lease.waited:
            self.log.info("waited for another run pushing %s of resource %s", kind, resource_uuid)
        self.resource_leases[(resource_uuid, kind)] = lease
        self.leases.append(lease)

    def _accepted_total(self) -> int:
        """Batches the checkpoint records over all rounds; without a readable checkpoint, what the
        earlier leases recorded (so a damaged checkpoint is never forgotten by the next try)."""
        if not hasattr(self, "checkpoint"):
            return self.leases[0].recorded_accepted() if self.leases else 0
        return sum(len(r["batches"]) for r in self.checkpoint.document["rounds"])

    def _release_leases(self) -> None:
        info = {"accepted_batches": self._accepted_total(),
                "outcome": getattr(getattr(self, "result", None), "status", None)}
        for lease in reversed(self.leases):
            with contextlib.suppress(Exception):
                lease.release(**info)

    # -- 2. plan (pass 1) --------------------------------------------------------------------

    def resolve_resource(self, uuid: str | None) -> str:
        from monte_carlo_push_provider.utils.errors import MonteCarloConfigError, MonteCarloManifestError

        try:
            return self.creds.require_resource_uuid(uuid or self.op.resource_uuid)
        except MonteCarloManifestError:
            raise
        except MonteCarloConfigError as err:  # a retry would not find a UUID either
            raise MonteCarloManifestError(str(err)) from None

    def _validate(self, manifest: Any, index: int) -> None:
        from monte_carlo_push_provider.manifest import ManifestError
        from monte_carlo_push_provider.utils.errors import MonteCarloManifestError

        try:
            self.preflight.check(manifest, index=index)
        except MonteCarloManifestError:
            raise
        except ManifestError as err:
            raise MonteCarloManifestError(str(err)) from None
        try:  # what get_openlineage_facets_on_complete reports; never fails the push
            self.lineage_summary.add(manifest, self.op.resource_uuid)
        except Exception as exc:
            self.log.debug("no OpenLineage summary of manifest %s: %s", index, exc)
        if self.scopes is not None and manifest.get("kind") == "metadata":
            self.scopes.add(manifest, index, self.resolve_resource(manifest.get("resource_uuid")))
        if manifest.get("kind") == "lineage" and manifest.get("window") and manifest.get("events"):
            self.lineage_windows.append((manifest.get("resource_uuid"), manifest["resource_type"], manifest["window"]))
        if manifest.get("kind") == "lineage" and self.refresh_policy.enabled:
            # every lineage manifest, empty ones too: a quiet window is when refreshes matter
            slot = (manifest.get("resource_uuid"), manifest["resource_type"])
            if slot not in self.lineage_slots:
                self.lineage_slots.append(slot)
            window = manifest.get("window")
            seen_at = parse_time(window["end"]) if window else None  # a backfill saw its edges back then
            for event_index, event in enumerate(manifest["events"]):
                if event.get("fields"):
                    self.lineage_seen.append((slot[0], slot[1], event, seen_at, (index, event_index)))

    def pull_part(self, index: Any, key: str) -> Any:
        """One manifest part a collector task pushed as an XCom (``manifest_parts``)."""
        pull = getattr(self.ti, "xcom_pull", None)
        if not callable(pull):
            return None
        return pull(
            task_ids=index["task_id"], dag_id=index.get("dag_id"), run_id=index.get("run_id"), key=key,
            map_indexes=index.get("map_index", -1),
        )

    def plan(self, manifests: Any) -> None:
        if self.scopes is not None:
            from monte_carlo_push_provider.utils.errors import MonteCarloConfigError

            try:
                self.creds.require_graphql_key()
            except MonteCarloConfigError as err:  # before anything is pushed, not after
                raise MonteCarloConfigError(f"cleanup={self.op.cleanup!r} deletes through GraphQL: {err}") from None
        plan, oversized = plan_push(
            manifests, resolve_resource=self.resolve_resource, ledger=PushedLedger(self.state, self.ownership),
            lock=self._lock, max_compressed_bytes=self.op.max_compressed_bytes, max_raw_bytes=self.op.max_raw_bytes,
            validate=self._validate, log=self.log, strict_size=self.op.strict_size, pull=self.pull_part,
        )
        self.result.manifests = plan.manifests
        plan = self.plan_ = self._plan_refresh(plan, oversized)
        self.result.oversized_events = oversized
        self.result.totals.trimmed_events = sum(len(u.trimmed) for u in plan.units.values())
        if self.op.verify_resources and plan.units:
            # one getUser call (no-op without a GraphQL key): an unknown UUID or a connection type
            # that does not fit fails here, before the first request, not after a half-push
            self.hook.verify_resources(self.preflight.resource_pairs(), log_types=self.preflight.log_type_pairs())
        for skip in already_pushed_skips(plan):
            self.log.warning("skipped: %s", skip.reason)
            self.result.add_skip(skip)
        resumed = sum(u.resumed_events for u in plan.units.values())
        if resumed:
            self.log.info("%s query-log entries were accepted by an earlier try of this round; not sent again",
                          f"{resumed:,}")
        self.claims, skips = apply_cadence(
            plan, state=self.state, bucket=self.op.push_bucket, flow=self.flow, ownership=self.ownership,
            try_number=self.try_number, warn=self.log.warning,
        )
        for skip in skips:
            self.log.warning("skipped: %s", skip.reason)
            self.result.add_skip(skip)
        if not plan.units:
            self.log.info("%d manifest(s) with no events: nothing to push", plan.manifests)
            return
        to_send = [u for u in plan.units.values() if u.skip is None and u.plans]
        requests = sum(len(u.plans) for u in to_send)
        parts = ", ".join(f"{u.label}: {u.planned_events:,} events in {len(u.plans)}" for u in to_send)
        self.log.info(
            "%s events from %d manifest(s); to send: %d request(s) of <= %s gzip%s%s", f"{plan.events:,}",
            plan.manifests, requests, human_size(self.op.max_compressed_bytes),
            f" / {human_size(self.op.max_raw_bytes)} raw" if self.op.max_raw_bytes else "",
            f" ({parts})" if parts else "",
        )

    def _plan_refresh(self, plan: PushPlan, oversized: list[dict[str, Any]]) -> PushPlan:
        """The column-lineage keep-alive of every (resource, resource type) this push carries
        lineage for: record what was seen, let go what was not seen for ``keep_alive``, and plan
        the edges due for a refresh as units of their own (merged into ``plan``)."""
        from monte_carlo_push_provider.utils.errors import MonteCarloManifestError

        policy = self.refresh_policy
        if not policy.enabled or not self.lineage_slots:
            return plan
        assert policy.keep_alive is not None
        now = self.state.clock()
        recorded = self.checkpoint.round.get("lineage_refresh")  # a resumed round: the same selection
        selection: dict[str, list[str]] = dict(recorded or {})
        resolved: dict[tuple[str | None, str], tuple[str, str]] = {}
        for uuid, resource_type in self.lineage_slots:
            try:
                resolved[(uuid, resource_type)] = (self.resolve_resource(uuid), resource_type)
            except MonteCarloManifestError:  # an empty manifest without a resource: nothing to keep alive
                continue
        not_sent = {  # column-lineage events of this push it does not send (window already pushed, oversized)
            source for unit in plan.units.values() if unit.event_type == "COLUMN_LINEAGE"
            for offset in (*unit.excluded, *unit.oversized) if (source := unit.source_of(offset)) is not None
        }
        for slot in dict.fromkeys(resolved.values()):
            resource, resource_type = slot
            self._lock(resource, "lineage")  # the ledger is read and written under the lineage lease
            ledger = self.keepalive[slot] = KeepAliveLedger(self.state, resource, resource_type, self.log)
            seen_now: set[str] = set()
            for uuid, type_, event, seen_at, source in self.lineage_seen:
                if resolved.get((uuid, type_)) != slot:
                    continue
                key = edge_key(event)
                if source not in not_sent:
                    seen_now.add(key)  # pushed with this push's normal lineage: not refreshed by it too
                at = min(seen_at, now) if seen_at is not None else now
                if now - at <= policy.keep_alive:  # a backfill of edges older than that is not kept alive
                    ledger.seen(key, event, at)
            gone, over_cap = ledger.let_go(now, policy.keep_alive)
            slot_id = f"{resource}|{resource_type}"
            if recorded is not None and slot_id in recorded:
                keys = [k for k in recorded[slot_id] if k in ledger.edges]
            else:
                keys = ledger.due(now, policy.refresh_after, seen_now)
            selection[slot_id] = keys
            ledger.save()
            label = f"({resource_type} {resource[:8]}…)"
            if gone:
                self.log.info(
                    "column lineage keep-alive %s: let go %d edge(s) not seen for more than %s (not pushed again; "
                    "Monte Carlo expires them 10 days after their last push): %s", label, len(gone),
                    human_span(policy.keep_alive), describe([g.get("destination") or "?" for g in gone]),
                )
            if over_cap:
                self.log.warning(
                    "column lineage keep-alive %s: the ledger holds at most %d edges; let go the %d seen longest "
                    "ago (not pushed again unless collected again): %s", label, MAX_EDGES, len(over_cap),
                    describe([g.get("destination") or "?" for g in over_cap]),
                )
            if keys:
                self.log.info(
                    "column lineage refresh %s: re-pushing %d edge(s) last pushed %s or more ago and seen within %s, "
                    "before Monte Carlo's 10-day column-lineage expiry: %s", label, len(keys), human_span(policy.refresh_after),
                    human_span(policy.keep_alive), describe([ledger.edges[k].get("destination") or "?" for k in keys]),
                )
                self.refresh_manifests.append(ledger.manifest(keys))
            self.result.lineage_refresh.append({
                "resource_uuid": resource, "resource_type": resource_type, "refreshed": len(keys),
                "let_go": len(gone) + len(over_cap), "ledger_edges": len(ledger.edges), "invocation_ids": [],
            })
        self.checkpoint.round["lineage_refresh"] = selection
        if not self.refresh_manifests:
            return plan
        extra, too_large = plan_push(
            self.refresh_manifests, resolve_resource=self.resolve_resource,
            ledger=PushedLedger(self.state, self.ownership), lock=self._lock,
            max_compressed_bytes=self.op.max_compressed_bytes, max_raw_bytes=self.op.max_raw_bytes,
            validate=lambda manifest, index: None,  # built here from events validated when first pushed
            log=self.log, strict_size=self.op.strict_size,
        )
        oversized.extend(too_large)
        return replace(plan, units={**plan.units, **extra.units}, events=plan.events + extra.events,
                       requests=plan.requests + extra.requests)

    # -- 3. send (pass 2) --------------------------------------------------------------------

    def send(self, manifests: Any) -> None:
        from monte_carlo_push_provider.utils.sender import RetryPolicy

        plan = self.plan_
        assert plan is not None
        needed = any(u.skip is None and u.plans for u in plan.units.values())
        self.started = time.monotonic()
        if not needed:
            return
        sender = Sender(
            plan=plan, client=self.hook.get_ingestion_client(), creds=self.creds,
            policy=RetryPolicy(self.op.max_attempts, self.op.retry_base_delay_s, self.op.retry_max_delay_s),
            timeout_s=self.timeout_s, deadline_s=self.op.request_deadline_s, result=self.result,
            checkpoint=self.checkpoint, renew=self._renew, save=lambda: self._save("running"),
            on_accepted=self._on_accepted, max_compressed_bytes=self.op.max_compressed_bytes,
            max_raw_bytes=self.op.max_raw_bytes, log=self.log,
        )
        self.sender = sender
        try:
            sender.run(manifests, self.resolve_resource, self.pull_part)
            if self.refresh_manifests:
                sender.run(self.refresh_manifests, self.resolve_resource)
        except BaseException:
            self.result.status = "failed"
            self._release_unused_claims()
            with contextlib.suppress(Exception):
                self._save("failed")
            self.log.error(
                "push failed after %d accepted batch(es) in this round (%d sent by this try); invocation_ids so far: %s",
                len(self.result.batches), sender.sent, ", ".join(self.result.invocation_ids) or "none",
            )
            raise

    def _renew(self, accepted: int) -> None:
        for lease in self.leases:
            lease.renew(accepted_batches=self._accepted_total(), round=self.checkpoint.round["round"])

    def _on_accepted(self, unit: PushUnit, record: BatchRecord, events: list[dict[str, Any]], first: bool) -> None:
        from monte_carlo_push_provider.utils import push_state

        if unit.kind == "metadata" and first:
            for claim in self.claims:
                if claim.path.parent == self.state.claims_dir(unit.resource_uuid, self.flow):
                    try:
                        doc = read_json(claim.path) or {}
                    except Unreadable:
                        doc = {}
                    if not doc.get("invocation_id"):
                        doc.update(owner_record(self.ownership, self.try_number), invocation_id=record.invocation_id,
                                   pushed_at=record.accepted_at)
                        push_state.write_json(claim.path, doc)
        elif unit.kind == "query_logs":
            by_slot: dict[str, list[str]] = {}
            for event in events:
                by_slot.setdefault(push_state.ledger_slot(event["start_time"]), []).append(pushed_key(event))
            for day, keys in by_slot.items():
                record_pushed(self.state, unit.resource_uuid, "query_logs", unit.log_type or "", day, {
                    **owner_record(self.ownership, self.try_number), "invocation_id": record.invocation_id,
                    "accepted_at": record.accepted_at, "keys": keys,
                })
        elif unit.kind == "lineage" and unit.event_type in ("COLUMN_LINEAGE", REFRESH_EVENT_TYPE):
            ledger = self.keepalive.get((unit.resource_uuid, unit.resource_type or ""))
            if ledger is not None:
                refresh = unit.event_type == REFRESH_EVENT_TYPE
                at = parse_time(record.accepted_at) if record.accepted_at else self.state.clock()
                for event in events:
                    ledger.pushed(edge_key(event), event, at, record.invocation_id, refresh=refresh)
                ledger.save()

    def _release_unused_claims(self) -> None:
        """A claim whose unit got nothing accepted is given back: the bucket was not used."""
        used = {b.resource_uuid for b in self.result.batches if b.kind == "metadata"}
        for claim in self.claims:
            if claim.created and claim.unit_key[1] not in used:
                with contextlib.suppress(Exception):
                    remove(claim.path)

    def _save(self, status: str) -> None:
        for entry in self.result.lineage_refresh:
            entry["invocation_ids"] = [
                b.invocation_id for b in self.result.batches if b.flow == REFRESH_FLOW
                and (b.resource_uuid, b.resource_type) == (entry["resource_uuid"], entry["resource_type"])
            ]
        now = iso(utcnow())
        self.result.updated_at = now
        self.result.status = status
        self.checkpoint.save(status, now)
        if self.output is not None:
            self.output.write(self.result.to_dict())
            self.result.output_path = str(self.output.path)

    # -- 4. record ---------------------------------------------------------------------------

    def record(self) -> dict[str, Any]:
        from monte_carlo_push_provider.utils.errors import MonteCarloRejectedError

        result, plan = self.result, self.plan_
        assert plan is not None
        for unit in plan.units.values():
            if unit.skip is None and unit.planned_events:
                _describe_assets(result.assets, unit)
        self._record_lineage_windows()
        if result.oversized_events:
            self._save("partial")
            listed = "; ".join(e["message"] for e in result.oversized_events[:10])
            raise MonteCarloRejectedError(
                f"{len(result.oversized_events)} event(s) are too large to push on their own and were "
                f"not sent (everything else was: invocation_ids {', '.join(result.invocation_ids) or 'none'}): "
                f"{listed}",
                invocation_ids=result.invocation_ids,
            )
        self._clean_up()
        everything_skipped = not result.batches and bool(result.skipped)
        self._save("skipped" if everything_skipped else "success")
        for entry in result.lineage_refresh:
            if entry["invocation_ids"]:
                self.log.info(
                    "column lineage refresh (%s %s…): re-pushed %d edge(s) before they expire; invocation_ids: %s",
                    entry["resource_type"], entry["resource_uuid"][:8], entry["refreshed"],
                    ", ".join(entry["invocation_ids"]),
                )
        t = result.totals
        elapsed = time.monotonic() - getattr(self, "started", time.monotonic())
        self.log.info(
            "pushed %s events in %d request(s) this try (%s gzip, %s)%s%s; invocation_ids: %s%s",
            f"{t.events - t.resumed_events:,}", t.sent_requests, human_size(t.gzip_bytes), human_duration(elapsed),
            f"; resumed {t.resumed_batches} batch(es) ({t.resumed_events:,} events) accepted by earlier tries"
            if t.resumed_batches else "",
            f"; skipped {t.skipped_events:,} events ({len(result.skipped)} unit(s), see above)" if result.skipped else "",
            ", ".join(result.invocation_ids) or "none",
            f"; push result written to {self.output.path}" if self.output is not None else "",
        )
        data = result.to_dict()
        if everything_skipped and self.op.skip_when_nothing_pushed:
            from airflow.sdk.exceptions import AirflowSkipException

            push = getattr(self.ti, "xcom_push", None)
            if callable(push):
                with contextlib.suppress(Exception):
                    push(key="return_value", value=data)
            raise AirflowSkipException(
                "nothing pushed: " + " | ".join(s.reason for s in result.skipped)
                + " (skip_when_nothing_pushed=False keeps the task green)"
            )
        return data

    def _clean_up(self) -> None:
        """Dropped-table cleanup, after every batch was accepted and before the result is saved
        as successful: a failed delete call fails the try with the round still open, so the retry
        resumes it (nothing pushed again) and deletes again."""
        if self.scopes is None or self.plan_ is None:
            return
        from monte_carlo_push_provider.utils.push_cleanup import (
            Cleanup,
            CleanupSettings,
            MonteCarloCleanupRefusedError,
        )

        by_resource: dict[str, list[str]] = {}
        for b in self.result.batches:
            if b.kind == "metadata":
                by_resource.setdefault(b.resource_uuid, []).append(b.invocation_id)
        cleanup = Cleanup(
            settings=CleanupSettings(self.op.cleanup, self.op.cleanup_max_fraction, self.op.cleanup_force,
                                     getattr(self.op, "cleanup_min_tables", 10)),
            state=self.state, hook=self.hook, lock=self._lock,
            owner={**self.identity, "try_number": self.try_number, "round": self.ownership.round},
            log=self.log, now=lambda: iso(utcnow()),
        )
        try:
            self.result.cleanup, refusals = cleanup.run(self.scopes, self.plan_, by_resource)
        except BaseException as err:
            self.result.cleanup = {"mode": self.op.cleanup, "error": f"{type(err).__name__}: {err}"}
            with contextlib.suppress(Exception):
                self._save("failed")
            raise
        if refusals:
            with contextlib.suppress(Exception):
                self._save("failed")
            raise MonteCarloCleanupRefusedError(" | ".join(refusals))

    def _record_lineage_windows(self) -> None:
        """Lineage windows pushed in full are recorded, so a later run over the same window skips."""
        plan = self.plan_
        if plan is None or not self.lineage_windows:
            return
        sent_resources = {(b.resource_uuid, b.resource_type) for b in self.result.batches if b.kind == "lineage"}
        for uuid, resource_type, window in self.lineage_windows:
            resource = self.resolve_resource(uuid)
            if (resource, resource_type) not in sent_resources:
                continue
            ids = [b.invocation_id for b in self.result.batches if b.kind == "lineage" and b.resource_uuid == resource]
            record_pushed(self.state, resource, "lineage", resource_type, WINDOWS_DAY, {
                **owner_record(self.ownership, self.try_number), "invocation_id":
                f"{_safe_window(window)}-r{self.ownership.round}-{ids[0][:8]}",
                "window": dict(window), "invocation_ids": ids,
            })


def _safe_window(window: dict[str, str]) -> str:
    return (window["start"] + "_" + window["end"]).replace(":", "").replace("-", "")


def _describe_assets(assets: dict[str, Any], unit: PushUnit) -> None:
    """Summarise what a unit pushed for the sensor and for humans (merged across units)."""
    entry = assets.setdefault(unit.kind, {"count": 0})
    entry["count"] += unit.asset_count
    if unit.kind == "query_logs":
        if unit.window:
            old = entry.get("window")
            start, end = unit.window
            if old:
                start = iso_time(min(parse_time(old["start"]), parse_time(start)))
                end = iso_time(max(parse_time(old["end"]), parse_time(end)))
            entry["window"] = {"start": start, "end": end}
        return
    list_key, id_key = ("tables", "full_table_id") if unit.kind == "metadata" else ("edges", "destination")
    details = entry.setdefault(list_key, [])
    details.extend(unit.details[: max(ASSET_SAMPLE - len(details), 0)])
    entry["sample"] = [d[id_key] for d in details]
