"""Snowflake collectors end to end: the real SnowflakeHook against fakesnow's server over TLS
(``tests/standins/snowflake.py``), manifests pushed by MonteCarloPushOperator to the sandbox, and
assertions on the events the sandbox stored."""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from monte_carlo_push_provider.manifest import validate_manifest
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.operators.snowflake import (
    SnowflakeLineageCollectorOperator,
    SnowflakeMetadataCollectorOperator,
    SnowflakeQueryLogCollectorOperator,
    SnowflakeViewLineageCollectorOperator,
)
from tests.conftest import make_context
from tests.standins.snowflake import (
    DB,
    EMPTY_DB,
    HOSTILE_COLUMNS,
    HOSTILE_DB,
    HOSTILE_SCHEMA,
    HOSTILE_TABLE,
    HOSTILE_VIEW,
    STANDARD_ACCOUNT_USAGE,
    ts,
)

pytestmark = pytest.mark.usefixtures("snowflake_conn")

_runs = itertools.count()


def push(*manifests: dict[str, Any]) -> dict[str, Any]:
    """Push through the real operator; each call is its own task run (no resume between calls)."""
    run_id = f"manual__snowflake_{next(_runs)}"
    return MonteCarloPushOperator(task_id="push", manifests=list(manifests), min_push_interval=None).execute(
        make_context(task_id="push", run_id=run_id)
    )


def stored(mc: Any, kind: str) -> list[dict[str, Any]]:
    """The events the sandbox stored, as the push body carried them (metadata unwrapped)."""
    events = [e["event"] for e in mc.events(kind)]
    return [e.get("relational_asset", e) for e in events]


def interval(start: Any, end: Any) -> dict[str, Any]:
    return make_context(data_interval_start=start, data_interval_end=end)


@pytest.fixture
def executed_sql(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every statement the Snowflake connector sends (a spy around the real cursor)."""
    from snowflake.connector.cursor import SnowflakeCursor

    seen: list[str] = []
    original = SnowflakeCursor.execute

    def spy(self: Any, command: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(" ".join(command.split()))
        return original(self, command, *args, **kwargs)

    monkeypatch.setattr(SnowflakeCursor, "execute", spy)
    yield seen


EPOCH = "1970-01-01T00:00:00Z"  # fakesnow's CREATED / LAST_ALTERED
# Object tags from the stand-in TAG_REFERENCES table (tests/standins/snowflake.py: fakesnow has no
# tags and no ACCOUNT_USAGE, so a table of the view's shape plays it).
ORDERS_TAGS = [{"key": "COST_CENTER", "value": "finance"}, {"key": "PII", "value": ""}]
ORDERS_V_TAGS = [{"key": "COST_CENTER", "value": "bi"}]
HOSTILE_TAGS = [{"key": "GOV.LEGACY.OWNER", "value": 'ünï "q"'}, {"key": "GOV.TAGS.OWNER", "value": "data-eng"}]
HOSTILE_TABLE_EVENT = {
    "type": "TABLE",
    "metadata": {"name": HOSTILE_TABLE, "database": HOSTILE_DB, "schema": HOSTILE_SCHEMA, "created_on": EPOCH},
    "fields": [
        {"name": HOSTILE_COLUMNS[0], "type": "NUMBER"},
        {"name": HOSTILE_COLUMNS[1], "type": "TEXT"},
        {"name": HOSTILE_COLUMNS[2], "type": "BOOLEAN"},
    ],
    "tags": HOSTILE_TAGS,
    "volume": {"row_count": 2, "byte_count": 0},
    "freshness": {"last_update_time": EPOCH},
}
HOSTILE_VIEW_EVENT = {
    "type": "VIEW",
    "metadata": {
        "name": HOSTILE_VIEW,
        "database": HOSTILE_DB,
        "schema": HOSTILE_SCHEMA,
        "view_query": 'CREATE VIEW "Sch; --ünï"."lower view" AS SELECT "Col ""x""" '
        'FROM "Sch; --ünï"."Tåble ""q""; DROP --";',
        "created_on": EPOCH,
    },
    "fields": [{"name": HOSTILE_COLUMNS[0], "type": "NUMBER"}],
}
ORDERS_EVENT = {
    "type": "TABLE",
    "metadata": {
        "name": "ORDERS", "database": DB, "schema": "PUBLIC", "description": "one row per order", "created_on": EPOCH,
    },
    "fields": [
        {"name": "ID", "type": "NUMBER"},
        {"name": "AMOUNT", "type": "FLOAT"},
        {"name": "CREATED_AT", "type": "TIMESTAMP_NTZ"},
    ],
    "tags": ORDERS_TAGS,
    "volume": {"row_count": 3, "byte_count": 0},
    "freshness": {"last_update_time": EPOCH},
}
ORDERS_V_EVENT = {
    "type": "VIEW",
    "metadata": {
        "name": "ORDERS_V",
        "database": DB,
        "schema": "PUBLIC",
        "view_query": "CREATE VIEW PUBLIC.ORDERS_V AS SELECT ID, AMOUNT FROM PUBLIC.ORDERS WHERE (AMOUNT > 8);",
        "created_on": EPOCH,
    },
    "fields": [{"name": "ID", "type": "NUMBER"}, {"name": "AMOUNT", "type": "FLOAT"}],
    "tags": ORDERS_V_TAGS,
}
RAW_ORDERS_EVENT = {
    "type": "TABLE",
    "metadata": {"name": "RAW_ORDERS", "database": DB, "schema": "STAGING", "created_on": EPOCH},
    "fields": [{"name": "ID", "type": "NUMBER"}, {"name": "PAYLOAD", "type": "VARIANT"}],
    "volume": {"row_count": 0, "byte_count": 0},
    "freshness": {"last_update_time": EPOCH},
}


# --- metadata: INFORMATION_SCHEMA ----------------------------------------------------------------


def test_full_schema_with_hostile_identifiers_is_pushed(mc_conn: Any, executed_sql: list[str]) -> None:
    manifest = SnowflakeMetadataCollectorOperator(
        task_id="metadata", databases=[DB, "mixed_*"]
    ).execute(make_context())

    assert manifest["databases"] == [DB, HOSTILE_DB]
    assert manifest["resource_type"] == "snowflake"
    push(manifest)
    assert stored(mc_conn, "metadata") == [
        ORDERS_EVENT, ORDERS_V_EVENT, RAW_ORDERS_EVENT, HOSTILE_TABLE_EVENT, HOSTILE_VIEW_EVENT,
    ]
    assert manifest["stats"]["tags"] == {"tagged_tables": 3, "sources": 1, "unavailable": []}
    # one TAG_REFERENCES query for all databases
    assert [q for q in executed_sql if "TAG_REFERENCES" in q] == [executed_sql[1]]
    # one TABLES and one COLUMNS query per database, the names quoted, nothing per schema/table
    catalog_queries = [q for q in executed_sql if "INFORMATION_SCHEMA" in q]
    assert len(catalog_queries) == 4
    assert [q.count(f'FROM "{DB}".INFORMATION_SCHEMA.') for q in catalog_queries[:2]] == [1, 1]
    assert 'FROM "Mixed_Ünïcode".INFORMATION_SCHEMA.TABLES' in catalog_queries[2]
    assert 'FROM "Mixed_Ünïcode".INFORMATION_SCHEMA.COLUMNS' in catalog_queries[3]
    assert executed_sql[0] == "SHOW DATABASES"


def test_freshness_and_volume_only_skips_columns_view_text_and_comments(
    mc_conn: Any, executed_sql: list[str]
) -> None:
    manifest = SnowflakeMetadataCollectorOperator(
        task_id="hourly", database=DB, exclude_schemas="staging", only_freshness_and_volume=True
    ).execute(make_context())

    push(manifest)
    assert stored(mc_conn, "metadata") == [
        {
            "type": "TABLE",
            "metadata": {"name": "ORDERS", "database": DB, "schema": "PUBLIC", "created_on": EPOCH},
            "volume": {"row_count": 3, "byte_count": 0},
            "freshness": {"last_update_time": EPOCH},
        },
        {"type": "VIEW", "metadata": {"name": "ORDERS_V", "database": DB, "schema": "PUBLIC", "created_on": EPOCH}},
    ]
    assert not any("INFORMATION_SCHEMA.COLUMNS" in q for q in executed_sql)
    assert not any("SHOW DATABASES" in q for q in executed_sql)  # an explicit database is not listed


def test_empty_database_gives_an_empty_manifest_and_no_push(mc_conn: Any) -> None:
    manifest = SnowflakeMetadataCollectorOperator(task_id="empty", database=EMPTY_DB).execute(make_context())

    assert manifest["events"] == []
    assert manifest["database"] == EMPTY_DB
    validate_manifest(manifest)
    push(manifest)
    assert mc_conn.pushes("metadata") == []


def test_every_database_but_the_system_one_by_default() -> None:
    manifest = SnowflakeMetadataCollectorOperator(
        task_id="all", exclude_databases=["AU_*"], only_freshness_and_volume=True
    ).execute(make_context())

    # SNOWFLAKE (the shared system database) is never collected unless named
    assert manifest["databases"] == [DB, EMPTY_DB, HOSTILE_DB]
    assert {e["metadata"]["database"] for e in manifest["events"]} == {DB, HOSTILE_DB}


# --- metadata: ACCOUNT_USAGE ---------------------------------------------------------------------


def test_account_wide_mode_reads_account_usage_once(mc_conn: Any, executed_sql: list[str]) -> None:
    manifest = SnowflakeMetadataCollectorOperator(
        task_id="account", account_usage=True, exclude_databases="OTHER_DB"
    ).execute(make_context())

    push(manifest)
    assert stored(mc_conn, "metadata") == [
        {
            "type": "VIEW",
            "metadata": {"name": "DAILY_MV", "database": DB, "schema": "PUBLIC", "created_on": "2026-11-25T03:00:00Z"},
            "fields": [{"name": "DAY", "type": "DATE"}],
        },
        {
            "type": "TABLE",
            "metadata": {
                "name": "ORDERS", "database": DB, "schema": "PUBLIC", "description": "one row per order",
                "created_on": "2026-11-25T01:00:00Z",
            },
            "fields": [{"name": "ID", "type": "NUMBER", "description": "order id"}, {"name": "AMOUNT", "type": "FLOAT"}],
            "tags": ORDERS_TAGS,
            "volume": {"row_count": 1000, "byte_count": 123456},
            "freshness": {"last_update_time": "2026-11-25T09:30:05Z"},
        },
        {
            "type": "VIEW",
            "metadata": {
                "name": "ORDERS_V", "database": DB, "schema": "PUBLIC",
                "view_query": "create view ORDERS_V as select ID from ORDERS", "created_on": "2026-11-25T02:00:00Z",
            },
            "fields": [{"name": "ID", "type": "NUMBER"}],
            "tags": ORDERS_V_TAGS,
        },
        {
            "type": "TABLE",
            "metadata": {"name": "EXT_EVENTS", "database": DB, "schema": "STAGING", "created_on": "2026-11-25T04:00:00Z"},
            "fields": [{"name": "VALUE", "type": "VARIANT"}],
            "freshness": {"last_update_time": "2026-11-25T04:00:00Z"},
        },
        {
            "type": "TABLE",
            "metadata": {
                "name": HOSTILE_TABLE, "database": HOSTILE_DB, "schema": HOSTILE_SCHEMA, "description": "ünï",
                "created_on": "2026-11-25T05:00:00Z",
            },
            "fields": [
                {"name": HOSTILE_COLUMNS[0], "type": "NUMBER"},
                {"name": HOSTILE_COLUMNS[1], "type": "TEXT", "description": "semi"},
            ],
            "tags": HOSTILE_TAGS,
            "volume": {"row_count": 2, "byte_count": 1024},
            "freshness": {"last_update_time": "2026-11-25T10:00:00.250000Z"},
        },
    ]
    account_queries = [q for q in executed_sql if "ACCOUNT_USAGE" in q]
    # TAG_REFERENCES, TABLES (views joined) and COLUMNS, for the whole account
    assert len(account_queries) == 3
    assert '"SNOWFLAKE"."ACCOUNT_USAGE".TAG_REFERENCES' in account_queries[0]
    assert '"SNOWFLAKE"."ACCOUNT_USAGE".TABLES' in account_queries[1]
    assert '"SNOWFLAKE"."ACCOUNT_USAGE".COLUMNS' in account_queries[2]
    assert not any("SHOW DATABASES" in q for q in executed_sql)


def test_account_wide_mode_narrows_to_one_database_in_snowflake(executed_sql: list[str]) -> None:
    manifest = SnowflakeMetadataCollectorOperator(
        task_id="account", account_usage=True, database=HOSTILE_DB, only_freshness_and_volume=True
    ).execute(make_context())

    assert [(e["metadata"]["schema"], e["metadata"]["name"]) for e in manifest["events"]] == [
        (HOSTILE_SCHEMA, HOSTILE_TABLE)
    ]
    assert "fields" not in manifest["events"][0]
    (query,) = [q for q in executed_sql if "ACCOUNT_USAGE" in q]
    assert "t.TABLE_CATALOG = %(database)s" in query  # a bind parameter, not the name in the SQL


# --- tags ------------------------------------------------------------------------------------------


def test_tags_narrowed_to_one_database_in_snowflake(executed_sql: list[str]) -> None:
    manifest = SnowflakeMetadataCollectorOperator(task_id="tags", database=HOSTILE_DB).execute(make_context())

    assert {e["metadata"]["name"]: e.get("tags") for e in manifest["events"]} == {
        HOSTILE_TABLE: HOSTILE_TAGS, HOSTILE_VIEW: None,
    }
    (query,) = [q for q in executed_sql if "TAG_REFERENCES" in q]
    assert "OBJECT_DATABASE = %(database)s" in query  # a bind parameter, not the name in the SQL


def test_tags_opt_out_sends_none_and_runs_no_tag_query(executed_sql: list[str]) -> None:
    manifest = SnowflakeMetadataCollectorOperator(task_id="no_tags", database=DB, collect_tags=False).execute(
        make_context()
    )

    assert manifest["events"] and not any("tags" in e for e in manifest["events"])
    assert "tags" not in manifest["stats"]
    assert not any("TAG_REFERENCES" in q for q in executed_sql)


def test_tags_are_not_read_for_freshness_and_volume_runs(executed_sql: list[str]) -> None:
    SnowflakeMetadataCollectorOperator(task_id="hourly", database=DB, only_freshness_and_volume=True).execute(
        make_context()
    )

    assert not any("TAG_REFERENCES" in q for q in executed_sql)


def test_tags_a_role_cannot_read_cost_the_tags_only(mc_conn: Any, caplog: pytest.LogCaptureFixture) -> None:
    # AU_STANDARD.ACCOUNT_USAGE has no TAG_REFERENCES: what a role without IMPORTED PRIVILEGES
    # (or GOVERNANCE_VIEWER) meets; Snowflake says "does not exist or not authorized" for both.
    manifest = SnowflakeMetadataCollectorOperator(
        task_id="no_grant", databases=[DB], account_usage_schema=STANDARD_ACCOUNT_USAGE,
    ).execute(make_context())

    push(manifest)
    assert stored(mc_conn, "metadata") == [
        {k: v for k, v in e.items() if k != "tags"} for e in (ORDERS_EVENT, ORDERS_V_EVENT, RAW_ORDERS_EVENT)
    ]
    assert manifest["stats"]["tags"] == {
        "tagged_tables": 0, "sources": 0, "unavailable": [f"{STANDARD_ACCOUNT_USAGE}.TAG_REFERENCES"],
    }
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "tags not collected" in r.getMessage()]
    assert len(warnings) == 1
    assert "IMPORTED PRIVILEGES" in warnings[0] and "collect_tags=False" in warnings[0]


# --- query logs ----------------------------------------------------------------------------------


Q_FAILED = {
    "start_time": "2026-11-25T09:40:00Z",
    "end_time": "2026-11-25T09:40:01Z",
    "query_text": "SELECT * FROM ANALYTICS.PUBLIC.MISSING",
    "query_id": "q-failed",
    "user": "BOB",
    "error_code": "002003",
    "error_text": "SQL compilation error: Object 'ANALYTICS.PUBLIC.MISSING' does not exist or not authorized.",
    "returned_rows": 0,
    "extra": {
        "bytes_scanned": 0, "warehouse_name": "ANALYTICS_WH", "warehouse_size": "X-Small", "role_name": "ANALYST",
        "execution_status": "FAIL",
    },
}
Q_LONG = {
    "start_time": "2026-11-25T07:00:00Z",
    "end_time": "2026-11-25T09:50:00Z",
    "query_text": "CREATE TEMPORARY TABLE TMP_ORDERS AS SELECT ID, AMOUNT FROM ORDERS",
    "query_id": "q-long",
    "user": "ETL",
    "returned_rows": 3,
    "extra": {
        "bytes_scanned": 987654321, "warehouse_name": "ETL_WH", "warehouse_size": "Large", "role_name": "TRANSFORMER",
        "query_tag": '{"dag_id": "etl", "task": "load"}', "execution_status": "SUCCESS",
    },
}


def test_query_logs_for_the_shifted_data_interval_are_pushed(mc_conn: Any) -> None:
    manifest = SnowflakeQueryLogCollectorOperator(task_id="query_logs").execute(interval(ts(10), ts(11)))

    # default lag 45 minutes: [09:15, 10:15), by END_TIME
    assert manifest["window"] == {"start": "2026-11-25T09:15:00Z", "end": "2026-11-25T10:15:00Z"}
    assert manifest["log_type"] == "snowflake"
    push(manifest)
    events = stored(mc_conn, "query_logs")
    assert [e["query_id"] for e in events] == ["q-boundary", "q-failed", "q-long", "q-drop", "q-insert"]
    assert events[1] == Q_FAILED
    assert events[2] == Q_LONG
    assert events[4]["end_time"] == "2026-11-25T10:14:59.999999Z"
    assert {p["log_type"] for p in mc_conn.pushes("query_logs")} == {"snowflake"}


def test_consecutive_runs_tile_time_with_no_gap_and_no_overlap() -> None:
    ids: list[str] = []
    for hour in (9, 10, 11):  # three hourly runs, as a backfill would make them
        manifest = SnowflakeQueryLogCollectorOperator(task_id="query_logs").execute(interval(ts(hour), ts(hour + 1)))
        ids += [e["query_id"] for e in manifest["events"]]

    # every query that ended in [08:15, 11:15) exactly once (q-empty has no text and is skipped)
    assert sorted(ids) == sorted(["q-before", "q-boundary", "q-failed", "q-long", "q-drop", "q-insert", "q-after"])
    assert len(ids) == len(set(ids))


def test_a_query_without_text_is_skipped_and_counted() -> None:
    # q-empty ends at 10:00:01, in the run of 10:45 .. 11:45 minus the 45-minute lag
    manifest = SnowflakeQueryLogCollectorOperator(task_id="query_logs").execute(
        interval(ts(10, 45), ts(11, 45))
    )
    assert "q-empty" not in {e["query_id"] for e in manifest["events"]}
    assert manifest["stats"]["skipped"] == {"empty_query_text": 1}


def test_query_logs_from_an_ntz_copy_read_as_utc() -> None:
    ltz = SnowflakeQueryLogCollectorOperator(task_id="ltz").execute(interval(ts(10), ts(11)))
    ntz = SnowflakeQueryLogCollectorOperator(
        task_id="ntz", account_usage_schema=STANDARD_ACCOUNT_USAGE.lower()
    ).execute(interval(ts(10), ts(11)))

    assert ntz["events"] == ltz["events"]


def test_explicit_lag_and_window() -> None:
    manifest = SnowflakeQueryLogCollectorOperator(
        task_id="q", start="2026-11-25T09:40:00Z", end="2026-11-25T09:40:02Z"
    ).execute(make_context())
    assert [e["query_id"] for e in manifest["events"]] == ["q-failed"]

    manifest = SnowflakeQueryLogCollectorOperator(task_id="q", lag=timedelta(0)).execute(interval(ts(9), ts(10)))
    assert [e["query_id"] for e in manifest["events"]] == ["q-before", "q-boundary", "q-failed", "q-long"]


# --- lineage -------------------------------------------------------------------------------------


def _ref(db: str, schema: str, name: str, type_: str = "TABLE") -> dict[str, Any]:
    asset_id = ".".join('"' + p.replace('"', '""') + '"' for p in (db, schema, name))
    return {"type": type_, "name": name, "database": db, "schema": schema, "asset_id": asset_id}


ORDERS = _ref(DB, "PUBLIC", "ORDERS")
ORDERS_V = _ref(DB, "PUBLIC", "ORDERS_V", "VIEW")
RAW = _ref(DB, "STAGING", "RAW_ORDERS")
SUMMARY = _ref(DB, "PUBLIC", "ORDERS_SUMMARY")
HOSTILE = _ref(HOSTILE_DB, HOSTILE_SCHEMA, HOSTILE_TABLE)

ACCESS_HISTORY_EVENTS = [
    # DELETE … USING: no column record, a table edge from what the statement read
    {"destination": ORDERS, "sources": [RAW]},
    # two queries into one table, merged; a view source stays a VIEW (directSources)
    {
        "destination": SUMMARY,
        "sources": [ORDERS, ORDERS_V, RAW],
        "fields": [
            {"name": "ID", "source_fields": [{"asset_id": ORDERS_V["asset_id"], "field_name": "ID"}]},
            {
                "name": "TOTAL",
                "source_fields": [
                    {"asset_id": ORDERS["asset_id"], "field_name": "AMOUNT"},
                    {"asset_id": RAW["asset_id"], "field_name": "PAYLOAD"},
                ],
            },
        ],
    },
    # baseSources where directSources is empty; quoted hostile name parsed back
    {
        "destination": HOSTILE,
        "sources": [RAW],
        "fields": [{"name": HOSTILE_COLUMNS[0], "source_fields": [{"asset_id": RAW["asset_id"], "field_name": "ID"}]}],
    },
]


def test_lineage_from_access_history_is_pushed(mc_conn: Any) -> None:
    manifest = SnowflakeLineageCollectorOperator(task_id="lineage").execute(interval(ts(12), ts(13)))

    # default lag 3 hours (ACCESS_HISTORY's latency): [09:00, 10:00)
    assert manifest["window"] == {"start": "2026-11-25T09:00:00Z", "end": "2026-11-25T10:00:00Z"}
    assert manifest["source"] == "access_history"
    push(manifest)
    assert stored(mc_conn, "lineage") == ACCESS_HISTORY_EVENTS


def test_table_lineage_only() -> None:
    manifest = SnowflakeLineageCollectorOperator(
        task_id="lineage", source="access_history", column_lineage=False
    ).execute(interval(ts(12), ts(13)))

    assert manifest["events"] == [{k: v for k, v in e.items() if k != "fields"} for e in ACCESS_HISTORY_EVENTS]


def test_standard_edition_falls_back_to_query_history_sql(mc_conn: Any) -> None:
    manifest = SnowflakeLineageCollectorOperator(
        task_id="lineage", account_usage_schema=STANDARD_ACCOUNT_USAGE, lag=timedelta(minutes=45)
    ).execute(interval(ts(10), ts(11)))

    assert manifest["source"] == "query_history"
    push(manifest)
    # the temporary table is resolved away; names folded to Snowflake's upper case
    assert stored(mc_conn, "lineage") == [
        {
            "destination": {"type": "TABLE", "name": "ORDERS_SUMMARY", "database": DB, "schema": "PUBLIC",
                            "asset_id": "analytics.public.orders_summary"},
            "sources": [{"type": "TABLE", "name": "ORDERS", "database": DB, "schema": "PUBLIC",
                         "asset_id": "analytics.public.orders"}],
            "fields": [
                {"name": "ID", "source_fields": [{"asset_id": "analytics.public.orders", "field_name": "ID"}]},
                {"name": "TOTAL", "source_fields": [{"asset_id": "analytics.public.orders", "field_name": "AMOUNT"}]},
            ],
        }
    ]


def test_access_history_only_fails_clearly_without_the_view() -> None:
    from snowflake.connector.errors import ProgrammingError

    from monte_carlo_push_provider.collectors.base import WarehouseAccessError

    operator = SnowflakeLineageCollectorOperator(
        task_id="lineage", source="access_history", account_usage_schema=STANDARD_ACCOUNT_USAGE
    )
    # the connector's error, mapped to a message naming the view, the grant and the fix
    with pytest.raises(WarehouseAccessError, match="ACCESS_HISTORY") as raised:
        operator.execute(interval(ts(12), ts(13)))
    assert isinstance(raised.value.__cause__, ProgrammingError)
    assert "IMPORTED PRIVILEGES ON DATABASE SNOWFLAKE" in str(raised.value)
    assert "Enterprise edition" in str(raised.value)


def test_an_unknown_database_names_the_database_and_the_grant() -> None:
    from monte_carlo_push_provider.collectors.base import WarehouseAccessError

    operator = SnowflakeMetadataCollectorOperator(task_id="metadata", database="NO_SUCH_DB")
    with pytest.raises(WarehouseAccessError) as raised:
        operator.execute(make_context())
    message = str(raised.value)
    assert "database NO_SUCH_DB" in message and "GRANT USAGE ON DATABASE" in message
    assert "docs/snowflake.md#grants" in message


# --- view lineage from the catalog's view definitions (issue 18) ----------------------------------


def lineage_edges(events: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """{destination: {"sources": {(db, schema, name, type)}, "columns": {column: {(source name, column)}}}}."""
    out = {}
    for event in events:
        by_id = {s["asset_id"]: s for s in event["sources"]}
        dest = event["destination"]
        out[(dest["database"], dest["schema"], dest["name"])] = {
            "type": dest["type"],
            "sources": {(s["database"], s["schema"], s["name"], s["type"]) for s in event["sources"]},
            "columns": {f["name"]: {(by_id[sf["asset_id"]]["name"], sf["field_name"]) for sf in f["source_fields"]}
                        for f in event.get("fields") or []},
        }
    return out


def test_view_lineage_from_view_definitions_names_tables_as_the_metadata_push(mc_conn: Any) -> None:
    """VIEW_DEFINITION (fakesnow keeps the whole CREATE VIEW, as Snowflake does) parsed by the
    engine: the quoted, mixed-case, unicode view over a quoted mixed-case table and its quoted
    column come out spelled exactly as the metadata push spells them, and the sandbox stores the
    edges under those names."""
    metadata = SnowflakeMetadataCollectorOperator(task_id="metadata", databases=[DB, "mixed_*"],
                                                  collect_tags=False).execute(make_context())
    manifest = SnowflakeViewLineageCollectorOperator(task_id="views", databases=[DB, "mixed_*"]).execute(make_context())
    validate_manifest(manifest)
    assert manifest["kind"] == "lineage" and manifest["resource_type"] == "snowflake"
    assert manifest["source"] == "view_definitions" and manifest["databases"] == [DB, HOSTILE_DB]
    assert manifest["stats"]["views"] == 2 and manifest["stats"]["skipped"] == {}
    edges = lineage_edges(manifest["events"])
    assert edges == {
        (DB, "PUBLIC", "ORDERS_V"): {
            "type": "VIEW", "sources": {(DB, "PUBLIC", "ORDERS", "TABLE")},
            "columns": {"ID": {("ORDERS", "ID")}, "AMOUNT": {("ORDERS", "AMOUNT")}},
        },
        (HOSTILE_DB, HOSTILE_SCHEMA, HOSTILE_VIEW): {
            "type": "VIEW", "sources": {(HOSTILE_DB, HOSTILE_SCHEMA, HOSTILE_TABLE, "TABLE")},
            "columns": {HOSTILE_COLUMNS[0]: {(HOSTILE_TABLE, HOSTILE_COLUMNS[0])}},
        },
    }
    # every name lineage uses is a name the metadata push sent, columns included
    pushed = {(e["metadata"]["database"], e["metadata"]["schema"], e["metadata"]["name"]):
              {f["name"] for f in e["fields"]} for e in metadata["events"]}
    for dest, edge in edges.items():
        assert set(edge["columns"]) <= pushed[dest]
        for source in edge["sources"]:
            assert source[:3] in pushed
    push(metadata, manifest)
    stored_edges = lineage_edges(stored(mc_conn, "lineage"))
    assert stored_edges == edges


def test_view_lineage_from_account_usage_views() -> None:
    """ACCOUNT_USAGE.VIEWS (one query for the account): a materialized view whose definition the
    view does not hold is counted, not guessed."""
    manifest = SnowflakeViewLineageCollectorOperator(task_id="views", account_usage=True, column_lineage=False,
                                                     database=DB).execute(make_context())
    validate_manifest(manifest)
    assert [(e["destination"]["name"], [s["name"] for s in e["sources"]], "fields" in e)
            for e in manifest["events"]] == [("ORDERS_V", ["ORDERS"], False)]
    assert manifest["stats"]["skipped"] == {"no_view_definition": 1}  # DAILY_MV


def test_view_lineage_takes_no_metadata_only_parameters() -> None:
    with pytest.raises(ValueError, match="only_freshness_and_volume"):
        SnowflakeViewLineageCollectorOperator(task_id="v", only_freshness_and_volume=True)


# --- a real Airflow run: one mapped collector per database -------------------------------------


def test_mapped_collectors_in_a_real_dag_run(airflow_db: Any, mc_conn: Any, snowflake_conn: Any) -> None:
    module = importlib.import_module("tests.dags.snowflake_mapped")
    dag_run = module.dag.test(logical_date=ts(12))

    assert dag_run.state == "success"
    events = stored(mc_conn, "metadata")
    assert sorted((e["metadata"]["database"], e["metadata"]["name"]) for e in events) == [
        (DB, "ORDERS"), (DB, "ORDERS_V"), (DB, "RAW_ORDERS"), (HOSTILE_DB, HOSTILE_TABLE), (HOSTILE_DB, HOSTILE_VIEW),
    ]
    assert len(mc_conn.pushes("metadata")) == 1  # the three mapped manifests in one push task

