"""Every request within every limit, from the operator's side (issue 14 item 4): a 413 from the
gateway splits the batch in halves and carries on; a single event still refused fails clearly;
the raw-size cap keeps bodies under it before the gateway has to say so. The sandbox enforces a
raw cap (``max_raw_bytes``) with 413, as a gateway in front of Lambda does."""

from __future__ import annotations

import json

import pytest

from monte_carlo_push_provider.utils.errors import MonteCarloPayloadTooLargeError
from tests.operators.test_push import metadata_manifest, push


def test_413_splits_the_batch_and_carries_on(mc_conn, state_path, capfd):
    mc_conn.set_faults(max_raw_bytes=40_000)
    # the operator's own raw cap is off, so its one planned batch (~170 KB raw) meets the 413
    result = push(metadata_manifest(600, columns=6), max_raw_bytes=None)
    names = [e["event"]["relational_asset"]["metadata"]["name"] for e in mc_conn.events("metadata")]
    assert len(names) == 600 and len(set(names)) == 600
    assert mc_conn.stats()["requests"].get("/ingest/v1/metadata 413", 0) >= 1
    assert all(p["raw_bytes"] <= 40_000 for p in mc_conn.pushes("metadata"))
    assert len(result["batches"]) >= 5 and result["status"] == "success"
    assert "answered 413" in capfd.readouterr().out
    checkpoint = json.loads(next(state_path.rglob("checkpoints/**/*.json")).read_text())
    assert checkpoint["rounds"][0]["split_fingerprints"]  # a retry splits the same way without asking


def test_operator_raw_cap_keeps_every_body_under_it(mc_conn):
    mc_conn.set_faults(max_raw_bytes=60_000)
    result = push(metadata_manifest(600, columns=6), max_raw_bytes=50_000)
    assert mc_conn.stats()["requests"].get("/ingest/v1/metadata 413", 0) == 0
    assert all(b["raw_bytes"] <= 50_000 for b in result["batches"])
    assert len(mc_conn.events("metadata")) == 600


def test_single_event_refused_with_413_fails_clearly(mc_conn):
    mc_conn.set_faults(max_raw_bytes=2_000)
    manifest = metadata_manifest(3, columns=60)  # each event alone is over 2,000 bytes raw
    with pytest.raises(MonteCarloPayloadTooLargeError, match="a single event of .* cannot be split further"):
        push(manifest, max_raw_bytes=None)
    assert mc_conn.events("metadata") == []
