"""Fault injection: 503, 429 + Retry-After, slow answers, accepted-but-never-answered."""

from __future__ import annotations

import time

import pytest
import requests

from tests.sandbox.helpers import gql, metadata_body, post

META = "/ingest/v1/metadata"


def test_503_stores_nothing(mc_sandbox_clean):
    sb = mc_sandbox_clean
    sb.set_faults(fail_503=1.0)
    r = post(sb, META, metadata_body())
    assert r.status_code == 503
    assert sb.pushes() == []
    assert sb.stats()["faults_injected"] == {"503": 1}
    # GraphQL is spared unless asked for.
    assert gql(sb, "query { getUser { email } }").status_code == 200
    sb.set_faults(graphql=True)
    assert gql(sb, "query { getUser { email } }").status_code == 503


def test_429_has_retry_after(mc_sandbox_clean):
    sb = mc_sandbox_clean
    sb.set_faults(fail_429=1.0, retry_after_s=7)
    r = post(sb, META, metadata_body())
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "7"
    assert sb.pushes() == []
    assert sb.stats()["requests"] == {f"{META} 429": 1}


def test_rates_are_deterministic_with_a_seed(mc_sandbox_clean):
    sb = mc_sandbox_clean

    def run() -> list[int]:
        sb.reset()
        sb.set_faults(fail_503=0.3, fail_429=0.3, seed=42)
        return [post(sb, META, metadata_body()).status_code for _ in range(20)]

    first = run()
    assert first == run()
    assert {202, 429, 503} <= set(first)
    assert len(sb.pushes()) == first.count(202)


def test_slow_answers(mc_sandbox_clean):
    sb = mc_sandbox_clean
    sb.set_faults(slow_ms=400)
    started = time.monotonic()
    assert post(sb, META, metadata_body()).status_code == 202
    assert time.monotonic() - started >= 0.4
    with pytest.raises(requests.Timeout):
        requests.post(sb.url + META, json=metadata_body(), timeout=0.1,
                      headers={"x-mcd-id": sb.ingest_key_id, "x-mcd-token": sb.ingest_key_secret})
    # The client gave up, but the sandbox still accepts the push once its delay is over (as the
    # real gateway would): wait for it so it does not leak into the next test.
    deadline = time.monotonic() + 5
    while len(sb.pushes()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sb.pushes()) == 2


def test_drop_after_accept_times_out_but_stores(mc_sandbox_clean):
    sb = mc_sandbox_clean
    sb.set_faults(drop_after_accept=1.0, drop_hold_s=5)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(sb.url + META, json=metadata_body(), timeout=0.5,
                      headers={"x-mcd-id": sb.ingest_key_id, "x-mcd-token": sb.ingest_key_secret})
    assert time.monotonic() - started < 3
    [push] = sb.pushes("metadata")
    assert push["dropped"] is True
    assert len(sb.events("metadata")) == 1
    stats = sb.stats()
    assert stats["dropped_after_accept"] == 1 and stats["accepted"] == 1


def test_drop_hold_cap_closes_without_answer(mc_sandbox_clean):
    sb = mc_sandbox_clean
    sb.set_faults(drop_after_accept=1.0, drop_hold_s=0.3)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(sb.url + META, json=metadata_body(), timeout=5,
                      headers={"x-mcd-id": sb.ingest_key_id, "x-mcd-token": sb.ingest_key_secret})
    assert len(sb.pushes()) == 1


def test_invalid_fault_settings_rejected(mc_sandbox_clean):
    r = requests.post(mc_sandbox_clean.url + "/_sandbox/faults", json={"fail_503": 2}, timeout=5)
    assert r.status_code == 400 and "between 0 and 1" in r.json()["message"]
    r = requests.post(mc_sandbox_clean.url + "/_sandbox/faults", json={"fail_500": 1}, timeout=5)
    assert r.status_code == 400 and "unknown fault settings: fail_500" in r.json()["message"]


def test_reset_clears_faults_and_data(mc_sandbox_clean):
    sb = mc_sandbox_clean
    assert post(sb, META, metadata_body()).status_code == 202
    sb.set_faults(fail_503=1.0)
    sb.reset()
    assert sb.pushes() == [] and sb.stats()["accepted"] == 0
    assert post(sb, META, metadata_body()).status_code == 202
