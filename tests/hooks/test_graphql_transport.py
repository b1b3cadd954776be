"""MonteCarloHook.graphql() / agraphql(): one transport (httpx) against the sandbox over HTTP.
Same answers and the same errors sync and async; retries only for what may pass."""

from __future__ import annotations

import asyncio

import pytest

from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook
from monte_carlo_push_provider.utils.errors import MonteCarloPushError, MonteCarloRejectedError
from monte_carlo_push_provider.utils.graphql_documents import GET_PUSH_STATUS, GET_TABLE_MCON

UNKNOWN = {"fullTableId": "DB:S.never_pushed", "dwId": None}


def test_sync_and_async_answer_alike_in_monte_carlos_field_names(mc_conn):
    hook = MonteCarloHook()
    sync = hook.graphql(GET_PUSH_STATUS)
    both = asyncio.run(_async(hook, GET_PUSH_STATUS))
    assert sync == both
    assert sync["getUser"]["account"]["warehouses"][0]["pushEvents"][0]["eventType"] == "METADATA"
    hook.close()


async def _async(hook: MonteCarloHook, query: str, variables: dict | None = None, **kwargs):
    try:
        return await hook.agraphql(query, variables, **kwargs)
    finally:
        await hook.aclose()


def test_not_found_is_an_error_unless_the_caller_expects_it(mc_conn):
    hook = MonteCarloHook()
    with pytest.raises(MonteCarloPushError, match="Table not found: DB:S.never_pushed") as err:
        hook.graphql(GET_TABLE_MCON, UNKNOWN, retry=False)
    assert not isinstance(err.value, MonteCarloRejectedError)
    assert hook.graphql(GET_TABLE_MCON, UNKNOWN, not_found_ok=True) == {"getTable": None}
    assert asyncio.run(_async(hook, GET_TABLE_MCON, UNKNOWN, not_found_ok=True)) == {"getTable": None}


def test_refused_document_and_refused_key_fail_at_once(mc_conn):
    hook = MonteCarloHook()
    with pytest.raises(MonteCarloRejectedError, match=r"refused by .* \(400\): Cannot query field 'nope'"):
        hook.graphql("query { getUser { nope } }")
    assert mc_conn.stats()["requests"] == {"/graphql 400": 1}  # not retried
    mc_conn.use(graphql_key_secret="wrong-secret-xyz")
    with pytest.raises(MonteCarloRejectedError, match="checkpoint 1") as err:
        MonteCarloHook().graphql(GET_PUSH_STATUS)
    assert "wrong-secret-xyz" not in str(err.value)
    with pytest.raises(MonteCarloRejectedError, match="checkpoint 1"):
        asyncio.run(_async(MonteCarloHook(), GET_PUSH_STATUS))


def test_transient_failures_are_retried_a_few_times(mc_conn):
    mc_conn.set_faults(fail_503=1.0, graphql=True, seed=1)
    with pytest.raises(MonteCarloPushError, match="answered 503") as err:
        MonteCarloHook().graphql(GET_PUSH_STATUS)
    assert not isinstance(err.value, MonteCarloRejectedError)
    assert mc_conn.stats()["requests"] == {"/graphql 503": 3}
    with pytest.raises(MonteCarloPushError):
        MonteCarloHook().graphql(GET_PUSH_STATUS, retry=False)
    assert mc_conn.stats()["requests"] == {"/graphql 503": 4}


def test_one_connection_pool_per_hook(mc_conn):
    hook = MonteCarloHook()
    hook.graphql(GET_PUSH_STATUS)
    client = hook._sync_client()
    hook.graphql(GET_PUSH_STATUS)
    assert hook._sync_client() is client
    hook.close()


def test_a_secret_with_a_trailing_newline_never_reaches_the_message(mc_conn):
    mc_conn.use(graphql_key_secret="pasted-secret-xyz\n")
    hook = MonteCarloHook()
    if hook.get_credentials().graphql_key_secret == "pasted-secret-xyz":
        pytest.skip("the connection strips secrets already")
    with pytest.raises(MonteCarloPushError) as err:
        hook.graphql(GET_PUSH_STATUS, retry=False)
    assert "pasted-secret-xyz" not in str(err.value)
