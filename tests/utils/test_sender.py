"""The sender over real HTTP: pycarlo's client (from the hook) against the sandbox's fault modes.

Reproduces issue 14's "Transport" bullets — a slow-drip answer held a request 33 s with
``timeout_s=1``; a reset / truncated / non-JSON 2xx answer raised uncaught and was not counted as
a possible duplicate — and the 413 / 403 answers the operator must tell apart.
"""

from __future__ import annotations

import logging
import time

import pytest

from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook
from monte_carlo_push_provider.utils.errors import (
    MonteCarloPayloadTooLargeError,
    MonteCarloPushError,
    MonteCarloRejectedError,
)
from monte_carlo_push_provider.utils.sender import RetryPolicy, send_with_retries
from tests.sandbox.helpers import asset, metadata_body

META = "/ingest/v1/metadata"


def _send(payload=None, *, policy=RetryPolicy(3, 0.01, 0.05), sleep=lambda s: None, hook=None, **kw):
    hook = hook or MonteCarloHook()
    kw.setdefault("timeout_s", 5.0)
    return send_with_retries(
        hook.get_ingestion_client(), META, payload or metadata_body(), creds=hook.get_credentials(),
        policy=policy, label="batch 1/1", sleep=sleep, **kw,
    )


def test_clean_send_returns_the_invocation_id(mc_conn):
    sent = _send()
    [push] = mc_conn.pushes()
    assert sent.invocation_id == push["invocation_id"]
    assert (sent.attempts, sent.timeouts, sent.possible_duplicates) == (1, 0, 0)


def test_slow_drip_answer_is_cut_at_the_deadline(mc_conn):
    """One byte every 0.25 s: each read is well within timeout_s=1, so only a wall-clock deadline
    ends the request (requests alone: ~40 s for this answer)."""
    mc_conn.set_faults(drip_ms=250)
    started = time.monotonic()
    with pytest.raises(MonteCarloPushError) as err:
        _send(timeout_s=1.0, policy=RetryPolicy(2, 0.01, 0.01))
    elapsed = time.monotonic() - started
    assert elapsed < 3.5, f"two attempts with a 1 s deadline took {elapsed:.1f} s"
    assert "within the 1 s deadline" in str(err.value)
    assert err.value.possible_duplicates == 2  # both stored by the sandbox, neither answered
    assert len(mc_conn.pushes()) == 2


def test_deadline_is_separate_from_the_read_timeout(mc_conn):
    mc_conn.set_faults(drip_ms=100)
    started = time.monotonic()
    with pytest.raises(MonteCarloPushError):
        _send(timeout_s=30.0, deadline_s=0.8, policy=RetryPolicy(1))
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("fault", ["reset_after_accept", "truncate_after_accept", "non_json_after_accept"])
def test_broken_answer_after_accept_is_retried_and_counted(mc_conn, fault, caplog):
    """The push is stored, the answer breaks: retried (not an uncaught ChunkedEncodingError /
    JSONDecodeError), and counted as a possible duplicate."""
    mc_conn.set_faults(**{fault: 1.0})
    sleeps = []

    def heal(seconds: float) -> None:  # the gateway recovers while we back off
        sleeps.append(seconds)
        mc_conn.set_faults(**{fault: 0.0})

    with caplog.at_level(logging.WARNING):
        sent = _send(sleep=heal)
    assert (sent.attempts, sent.possible_duplicates, sent.timeouts) == (2, 1, 0)
    pushes = mc_conn.pushes()
    assert len(pushes) == 2 and [p["dropped"] for p in pushes] == [True, False]
    assert sent.invocation_id == pushes[1]["invocation_id"]
    assert "may have accepted" in caplog.text and len(sleeps) == 1


def test_connection_refused_is_retried_but_not_a_possible_duplicate(mc_conn, monkeypatch):
    mc_conn.use(ingest_endpoint="http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(MonteCarloPushError) as err:
        _send(policy=RetryPolicy(3, 0.0, 0.0))
    assert "failed after 3 attempts" in str(err.value)
    assert "connection failed before the body was sent" in str(err.value)
    assert err.value.possible_duplicates == 0
    assert not isinstance(err.value, MonteCarloRejectedError)  # retryable by Airflow


def test_413_raises_payload_too_large_at_once(mc_conn):
    mc_conn.set_faults(max_raw_bytes=2_000)
    payload = metadata_body(*(asset(f"t{i}") for i in range(30)))
    with pytest.raises(MonteCarloPayloadTooLargeError, match="refused the body as too large"):
        _send(payload)
    assert mc_conn.stats()["requests"] == {f"{META} 413": 1}  # not retried


def test_unknown_resource_403_names_the_resource_checkpoint(mc_conn):
    payload = metadata_body(resource="00000000-0000-0000-0000-000000000000")
    with pytest.raises(MonteCarloRejectedError) as err:
        _send(payload)
    assert err.value.status == 403
    assert "checkpoint 2" in str(err.value) and "not authorised for this resource UUID" in str(err.value)


def test_429_retry_after_is_a_floor(mc_conn):
    mc_conn.set_faults(fail_429=1.0, retry_after_s=3)
    sleeps = []

    def heal(seconds: float) -> None:
        sleeps.append(seconds)
        mc_conn.set_faults(fail_429=0.0)

    sent = _send(sleep=heal, policy=RetryPolicy(3, 0.01, 60))
    assert sent.attempts == 2 and sent.possible_duplicates == 0
    assert sleeps[0] >= 3.0


def test_400_is_not_retried(mc_conn):
    payload = metadata_body(asset(type="BASE TABLE"))
    with pytest.raises(MonteCarloRejectedError, match="checkpoint 3"):
        _send(payload)
    assert mc_conn.stats()["requests"] == {f"{META} 400": 1}


def test_transport_error_text_is_scrubbed(mc_conn, caplog):
    """A header value requests refuses ends up in its exception text ("... in header value:
    'secret\\n'"); what the sender raises and logs must not carry it, not even escaped."""
    from pycarlo.core import Client, Session

    secret = "pasted-secret-7f3a9c\n"  # the case: a trailing newline
    hook = MonteCarloHook()
    client = Client(session=Session(mcd_id="sandbox-ingest-id", mcd_token=secret, scope="Ingestion",
                                    endpoint=mc_conn.ingest_endpoint))

    class Creds:  # the operator's credentials object, holding the broken secret
        ingest_endpoint = mc_conn.ingest_endpoint
        ingest_key_id = "sandbox-ingest-id"
        secrets = (secret,)

    with caplog.at_level(logging.DEBUG), pytest.raises(MonteCarloRejectedError) as err:
        send_with_retries(client, META, metadata_body(), creds=Creds(), timeout_s=5, policy=RetryPolicy(2),
                          label="batch 1/1", sleep=lambda s: None)
    text = str(err.value) + caplog.text
    assert "InvalidHeader" in text and "***" in text
    for form in ("pasted-secret-7f3a9c", repr(secret)[1:-1], secret):
        assert form not in text
    assert err.value.__suppress_context__ and mc_conn.pushes() == []
    del hook
