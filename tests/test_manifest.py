"""Manifest v1: builders produce what pycarlo's models render, and validation names the
manifest, the event index and the field of every problem."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from monte_carlo_push_provider.manifest import (
    ManifestError,
    lineage_asset_ref,
    lineage_event,
    new_manifest,
    query_log_entry,
    relational_asset,
    validate_manifest,
)

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)


def _metadata(*events):
    return new_manifest("metadata", list(events), resource_type="snowflake", collected_at=T0, database="ANALYTICS")


def _table(**overrides):
    base = dict(type="TABLE", name="orders", database="ANALYTICS", schema="PUBLIC")
    base.update(overrides)
    return relational_asset(**base)


def test_builders_match_pycarlo_to_dict():
    from pycarlo.features.ingestion.models import (
        AssetField,
        AssetFreshness,
        AssetMetadata,
        AssetVolume,
        ColumnLineageField,
        ColumnLineageSourceField,
        LineageAssetRef,
        LineageEvent,
        QueryLogEntry,
        RelationalAsset,
        Tag,
    )

    ours = relational_asset(
        type="VIEW", name="v", database="d", schema="s", description="desc", view_query="select 1",
        fields=[("id", "INTEGER", "pk"), ("x", "TEXT")], tags={"team": "core", "pii": None},
        row_count=10, byte_count=2048, last_update_time=T0,
    )
    theirs = RelationalAsset(
        type="VIEW",
        metadata=AssetMetadata(name="v", database="d", schema="s", description="desc", view_query="select 1"),
        tags=[Tag(key="team", value="core"), Tag(key="pii")],
        fields=[AssetField(name="id", type="INTEGER", description="pk"), AssetField(name="x", type="TEXT")],
        volume=AssetVolume(row_count=10, byte_count=2048),
        freshness=AssetFreshness(last_update_time="2026-11-25T10:00:00Z"),
    ).to_dict()
    assert ours == theirs

    src = lineage_asset_ref(name="u", database="d", schema="s", asset_id="src")
    dst = lineage_asset_ref(name="t", database="d", schema="s", asset_id="dst")
    ours_lineage = lineage_event(dst, [src], {"c": [("src", "c0")]})
    theirs_lineage = LineageEvent(
        destination=LineageAssetRef(type="TABLE", name="t", database="d", schema="s", asset_id="dst"),
        sources=[LineageAssetRef(type="TABLE", name="u", database="d", schema="s", asset_id="src")],
        fields=[ColumnLineageField(name="c", source_fields=[ColumnLineageSourceField(asset_id="src", field_name="c0")])],
    ).to_dict()
    assert ours_lineage == theirs_lineage

    ours_log = query_log_entry(
        start_time=T0, end_time=T0 + timedelta(seconds=5), query_text="select 1", query_id="q1",
        user="a@b.c", returned_rows=1, extra={"warehouse_name": "WH", "bytes_scanned": 10},
    )
    theirs_log = QueryLogEntry(
        start_time=T0, end_time=T0 + timedelta(seconds=5), query_text="select 1", query_id="q1",
        user="a@b.c", returned_rows=1, extra={"warehouse_name": "WH", "bytes_scanned": 10},
    ).to_dict()
    assert ours_log == theirs_log


def test_valid_manifests_pass():
    validate_manifest(_metadata(_table(fields=[("id", "NUMBER")], row_count=3, last_update_time=T0)))
    ref_a = lineage_asset_ref(name="a", database="d", schema="s", asset_id="a")
    ref_b = lineage_asset_ref(name="b", database="d", schema="s", asset_id="b")
    validate_manifest(new_manifest("lineage", [lineage_event(ref_b, [ref_a], {"x": [("a", "y")]})], resource_type="snowflake"))
    validate_manifest(
        new_manifest(
            "query_logs", [query_log_entry(start_time=T0, end_time=T0, query_text="select 1")],
            log_type="snowflake", window=(T0 - timedelta(hours=1), T0),
        )
    )


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda m: m.update(manifest_version=2), "manifest[0] (snowflake metadata, database ANALYTICS): manifest_version must be 1, got 2"),
        (lambda m: m.update(kind="tables"), "kind must be one of metadata, lineage, query_logs, got 'tables'"),
        (lambda m: m.pop("resource_type"), "resource_type is required for metadata manifests"),
        (lambda m: m.update(collected_at="2026-11-25T10:00:00"), "collected_at has no time zone"),
        (lambda m: m.update(collected_at="2026-11-25T10:00:00+02:00"), "collected_at must be in UTC"),
        (lambda m: m.update(collected_at="yesterday"), "collected_at must be an ISO-8601 timestamp"),
        (lambda m: m.update(events={}), "events must be a list, got dict"),
        (lambda m: m["events"][1].update(type="BASE TABLE"), "events[1].type must be TABLE or VIEW, got 'BASE TABLE'"),
        (lambda m: m["events"][1]["metadata"].pop("schema"), "events[1].metadata.schema is required"),
        (lambda m: m["events"][0].update(volume={"row_count": math.nan}), "events[0].volume.row_count must be a whole number, got nan"),
        (lambda m: m["events"][0].update(volume={"row_count": "12"}), "events[0].volume.row_count must be an integer, got str"),
        (lambda m: m["events"][0].update(volume={"row_count": -1}), "events[0].volume.row_count must be >= 0"),
        (lambda m: m["events"][0].update(freshness={"last_update_time": "2026-11-25 10:00"}), "events[0].freshness.last_update_time has no time zone"),
        (lambda m: m["events"][0].update(bytes_scanned=1), "events[0].bytes_scanned is not a field of this event"),
        (lambda m: m["events"].__setitem__(0, {"relational_asset": {}}), "events[0] is wrapped in 'relational_asset'"),
        (lambda m: m["events"][0].update(fields=[{"name": "x"}]), "events[0].fields[0].type is required"),
    ],
)
def test_metadata_errors_name_manifest_event_and_field(mutate, expected):
    manifest = _metadata(_table(), _table(name="items"))
    mutate(manifest)
    with pytest.raises(ManifestError) as err:
        validate_manifest(manifest, index=0)
    assert expected in str(err.value)


def test_lineage_errors():
    ref_a = lineage_asset_ref(name="a", database="d", schema="s", asset_id="a")
    ref_b = lineage_asset_ref(name="b", database="d", schema="s", asset_id="b")
    bad_ref = new_manifest("lineage", [lineage_event(ref_b, [ref_a], {"x": [("zzz", "y")]})], resource_type="snowflake")
    with pytest.raises(ManifestError, match=r"events\[0\]\.fields\[0\]\.source_fields\[0\]\.asset_id 'zzz' is not declared"):
        validate_manifest(bad_ref)
    no_sources = new_manifest("lineage", [lineage_event(ref_b, [])], resource_type="snowflake")
    with pytest.raises(ManifestError, match=r"events\[0\]\.sources must be a non-empty list"):
        validate_manifest(no_sources)
    half_cross = new_manifest(
        "lineage", [lineage_event(ref_b, [dict(ref_a, resource_uuid="u")])], resource_type="snowflake"
    )
    with pytest.raises(ManifestError, match=r"sources\[0\]\.resource_uuid is set, but per-asset resources"):
        validate_manifest(half_cross)


def test_query_log_errors():
    def logs(**kw):
        entry = query_log_entry(start_time=T0, end_time=T0 + timedelta(seconds=1), query_text="select 1")
        entry.update(kw)
        return new_manifest("query_logs", [entry], log_type="snowflake")

    with pytest.raises(ManifestError, match="Hive query logs use 'hive-s3'"):
        validate_manifest(dict(logs(), log_type="hive"))
    with pytest.raises(ManifestError, match=r"events\[0\]\.end_time .* is before start_time"):
        validate_manifest(logs(end_time="2026-11-25T09:00:00Z"))
    with pytest.raises(ManifestError, match=r"events\[0\]\.extra\.bytes_scanned is nan"):
        validate_manifest(logs(extra={"bytes_scanned": math.nan}))
    with pytest.raises(ManifestError, match=r"events\[0\]\.query_text must not be empty"):
        validate_manifest(logs(query_text=""))
    with pytest.raises(ManifestError, match="carries log_type, not resource_type"):
        validate_manifest(dict(logs(), resource_type="snowflake"))


def test_naive_datetimes_are_refused_when_building():
    with pytest.raises(ManifestError, match="has no time zone"):
        relational_asset(type="TABLE", name="t", database="d", schema="s", last_update_time=datetime(2026, 1, 1))


def test_empty_event_list_is_a_valid_manifest():
    # An empty database yields an empty manifest; the push operator logs it and sends nothing.
    validate_manifest(_metadata())


# -- issue 14, "Half-pushes the operator could have prevented" -------------------------------


def _logs(*, log_type="snowflake", resource_uuid=None, **entry):
    event = query_log_entry(start_time=T0, end_time=T0 + timedelta(seconds=1), query_text="select 1")
    event.update(entry)
    return new_manifest("query_logs", [event], log_type=log_type, resource_uuid=resource_uuid, collected_at=T0)


def _lineage(**ref_extra):
    src = lineage_asset_ref(name="a", database="d", schema="s", **ref_extra)
    dst = lineage_asset_ref(name="b", database="d", schema="s")
    return new_manifest("lineage", [lineage_event(dst, [src])], resource_type="snowflake", collected_at=T0)


HALF_PUSHES = [
    ("wrong resource_type", lambda: new_manifest("metadata", [_table()], resource_type="hive", collected_at=T0),
     "resource_type 'hive' is not a Monte Carlo warehouse type; use 'data-lake'"),
    ("capitalised resource_type", lambda: new_manifest("metadata", [_table()], resource_type="Snowflake", collected_at=T0),
     "use 'snowflake'"),
    ("made-up resource_type", lambda: new_manifest("metadata", [_table()], resource_type="warehouse", collected_at=T0),
     "use the Monte Carlo connection type of the warehouse, one of azure-dedicated-sql-pool, bigquery, "),
    ("per-ref resources beside the top-level one",
     lambda: _lineage(resource_uuid="11111111-1111-4111-8111-111111111111", resource_type="bigquery"),
     "events[0].sources[0].resource_uuid is set, but per-asset resources are cross-warehouse lineage"),
    ("lone surrogate in a name", lambda: _metadata(_table(name="caf\udce9")),
     "events[0].metadata.name contains a lone surrogate (U+DCE9 at character 3)"),
    ("lone surrogate in query text", lambda: _logs(query_text="select '\ud800'"),
     "events[0].query_text contains a lone surrogate (U+D800"),
    ("lone surrogate in an extra key", lambda: _logs(extra={"tag\udc80": "x"}), "events[0].extra key"),
    ("row_count beyond int64", lambda: _metadata(_table(row_count=2**63)),
     "events[0].volume.row_count is 9223372036854775808, outside the 64-bit integer range"),
    ("extra int beyond int64", lambda: _logs(extra={"bytes_scanned": 2**64}), "events[0].extra.bytes_scanned is 1844"),
    ("error_code beyond int64", lambda: _logs(error_code=-(2**63) - 1), "events[0].error_code is -9223372036854775809"),
]


@pytest.mark.parametrize(("make", "expected"), [c[1:] for c in HALF_PUSHES], ids=[c[0] for c in HALF_PUSHES])
def test_what_the_gateway_refuses_is_caught_locally(make, expected):
    from airflow.sdk.exceptions import AirflowFailException

    from monte_carlo_push_provider.utils.errors import MonteCarloManifestError

    with pytest.raises(MonteCarloManifestError) as err:
        validate_manifest(make(), index=1)
    assert isinstance(err.value, ManifestError) and isinstance(err.value, AirflowFailException)
    assert str(err.value).startswith("manifest[1] (")
    assert expected in str(err.value)


def test_valid_text_and_int64_edges_pass():
    validate_manifest(_metadata(_table(name="café \U0001f600", row_count=2**63 - 1, description="naïve")))
    validate_manifest(_logs(extra={"bytes": 2**63 - 1, "negative": -(2**63), "ratio": 0.5, "ok": True}))


def test_preflight_across_manifests():
    from monte_carlo_push_provider.manifest import Preflight
    from monte_carlo_push_provider.utils.errors import MonteCarloManifestError

    uuid, other = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
    preflight = Preflight(default_resource_uuid=uuid)
    preflight.check(_metadata(_table()), index=0)  # resource_uuid None -> the default
    preflight.check(_logs(), index=1)
    preflight.check(_logs(log_type="hive-s3", resource_uuid=other), index=2)
    assert preflight.resource_pairs() == [(uuid, "snowflake")]
    assert preflight.log_type_pairs() == [(uuid, "snowflake"), (other, "hive-s3")]

    with pytest.raises(MonteCarloManifestError, match=r"manifest\[3\] .*log_type 'bigquery' cannot go to resource "
                       r"1111.* which manifest\[0\] \(snowflake metadata, database ANALYTICS\) pushes as a 'snowflake'"):
        preflight.check(_logs(log_type="bigquery"), index=3)
    with pytest.raises(MonteCarloManifestError, match=r"manifest\[4\] .*resource_type 'bigquery' for resource 1111.*"
                       r"manifest\[0\] .* pushes the same resource as 'snowflake'"):
        preflight.check(new_manifest("metadata", [_table()], resource_type="bigquery", collected_at=T0), index=4)
    # the order does not matter: logs first, the warehouse type later
    later = Preflight()
    later.check(_logs(log_type="redshift", resource_uuid=other), index=0)
    with pytest.raises(MonteCarloManifestError, match=r"manifest\[0\] .*log_type 'redshift' cannot go to resource 2222"):
        later.check(new_manifest("metadata", [_table()], resource_type="data-lake", resource_uuid=other,
                                 collected_at=T0), index=1)


@pytest.mark.parametrize(("make", "expected"), [c[1:] for c in HALF_PUSHES[::3]], ids=[c[0] for c in HALF_PUSHES[::3]])
def test_push_operator_sends_nothing_when_a_later_manifest_is_bad(mc_conn, make, expected):
    """Before: the first manifest was accepted, then the gateway answered 400 on the second.
    Now every manifest is validated before the first request, and the task fails without retry."""
    from airflow.sdk.exceptions import AirflowFailException

    from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
    from tests.conftest import make_context

    op = MonteCarloPushOperator(task_id="push", manifests=[_metadata(_table()), make()], min_push_interval=None)
    with pytest.raises(AirflowFailException, match=expected.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        op.execute(make_context())
    assert mc_conn.pushes() == [] and mc_conn.stats()["requests"] == {}
