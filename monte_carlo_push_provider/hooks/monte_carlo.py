"""MonteCarloHook: credentials from the ``monte_carlo`` connection, pycarlo's ingestion client,
and the provider's one GraphQL transport (:meth:`MonteCarloHook.graphql` / ``agraphql``, httpx).

pycarlo is imported inside the methods that need it: importing ``pycarlo.core`` costs ~0.35 s
(it loads a 10 MB GraphQL schema), and this module is imported by every DAG file that uses an
operator of this provider.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from monte_carlo_push_provider.utils.errors import MonteCarloConfigError

if TYPE_CHECKING:
    import httpx
    from pycarlo.core import Client
    from pycarlo.features.ingestion import IngestionService

DEFAULT_INGEST_ENDPOINT = "https://integrations.getmontecarlo.com"
DEFAULT_GRAPHQL_ENDPOINT = "https://api.getmontecarlo.com/graphql"
DEFAULT_TIMEOUT_S = 60.0

CREATE_INGESTION_KEY = "montecarlo integrations create-key --scope Ingestion --description airflow-push"
CREATE_GRAPHQL_KEY = "Monte Carlo UI > Settings > API Access > Create key (or `montecarlo configure`)"

# Environment variables Monte Carlo's own scripts use; consulted when a connection field is empty.
ENV_FALLBACKS = {
    "ingest_key_id": "MCD_INGEST_ID",
    "ingest_key_secret": "MCD_INGEST_TOKEN",
    "graphql_key_id": "MCD_ID",
    "graphql_key_secret": "MCD_TOKEN",
    "resource_uuid": "MCD_RESOURCE_UUID",
}


def quiet_pycarlo() -> None:
    """pycarlo logs a WARNING per unknown enum value while loading its schema (seven of them in
    0.15.500): noise in every task log that says nothing about the push. Call before importing
    ``pycarlo.core``."""
    import logging

    logging.getLogger("pycarlo.lib.types").setLevel(logging.ERROR)


_endpoint_warned: set[str] = set()


def _pin_endpoint(session: Any, endpoint: str, what: str, logger: Any) -> None:
    """Undo ``MCD_API_ENDPOINT`` on a pycarlo session (it wins over ``endpoint=`` inside
    pycarlo), warning once per process and purpose."""
    if session.endpoint == endpoint:
        return
    if what not in _endpoint_warned:
        _endpoint_warned.add(what)
        logger.warning(
            "MCD_API_ENDPOINT=%s is set in the environment; pycarlo would send %s there. Ignoring it: "
            "%s go to the connection's endpoint %s (set ingest_endpoint / graphql_endpoint in the "
            "connection extras to change it).", os.environ.get("MCD_API_ENDPOINT") or session.endpoint,
            what, what, endpoint,
        )
    session.endpoint = endpoint


def _mask(value: str | None) -> None:
    """Register a secret with Airflow's masker so it is redacted from task logs."""
    if not value:
        return
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - Airflow < 3.1
        from airflow.sdk.execution_time.secrets_masker import mask_secret  # type: ignore[no-redef]
    mask_secret(value)


#: Where each credential comes from, for error messages (never the value).
FIELD_LABELS = {
    "ingest_key_id": "ingestion key id (connection login or MCD_INGEST_ID)",
    "ingest_key_secret": "ingestion key secret (connection password or MCD_INGEST_TOKEN)",
    "graphql_key_id": "GraphQL key id (extra graphql_key_id or MCD_ID)",
    "graphql_key_secret": "GraphQL key secret (extra graphql_key_secret or MCD_TOKEN)",
    "resource_uuid": "resource UUID (extra resource_uuid or MCD_RESOURCE_UUID)",
}
_SECRET_FIELDS = ("ingest_key_secret", "graphql_key_secret")


def clean_credential(name: str, value: Any) -> str | None:
    """A credential as it can go into an HTTP header: surrounding whitespace stripped (a secret
    pasted with a trailing newline is the common case), empty -> None. A control or non-ASCII
    character inside raises :class:`MonteCarloCredentialsError` naming the field, never the
    value: requests and httpx would otherwise refuse the header and print it in their error."""
    from monte_carlo_push_provider.utils.errors import MonteCarloCredentialsError

    if value is None:
        return None
    label = FIELD_LABELS.get(name, name)
    if not isinstance(value, str):
        raise MonteCarloCredentialsError(f"Monte Carlo {label} must be a string, got {type(value).__name__}")
    value = value.strip()
    if not value:
        return None
    bad = next((c for c in value if not (" " <= c <= "~")), None)
    if bad is not None:
        kind = "a control character" if bad.isascii() or not bad.isprintable() else "a non-ASCII character"
        raise MonteCarloCredentialsError(
            f"Monte Carlo {label} contains {kind} (U+{ord(bad):04X}) inside it, which an HTTP header "
            "cannot carry; copy the value again from Monte Carlo (keys are printable ASCII) and "
            "store it without line breaks or invisible characters"
        )
    return value


@dataclass(frozen=True)
class MonteCarloCredentials:
    """Resolved connection settings. Secrets are excluded from ``repr`` so they never reach a log
    line or an exception message through string formatting.

    Every key id, secret and the resource UUID is stripped of surrounding whitespace on
    construction, and refused (naming the field, not the value) if it contains a control or
    non-ASCII character: see :func:`clean_credential`.
    """

    ingest_key_id: str | None
    ingest_key_secret: str | None = field(repr=False)
    graphql_key_id: str | None
    graphql_key_secret: str | None = field(repr=False)
    resource_uuid: str | None
    ingest_endpoint: str
    graphql_endpoint: str
    timeout_s: float
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for name in FIELD_LABELS:
            object.__setattr__(self, name, clean_credential(name, getattr(self, name)))
        object.__setattr__(self, "ingest_endpoint", self.ingest_endpoint.strip().rstrip("/"))
        object.__setattr__(self, "graphql_endpoint", self.graphql_endpoint.strip())

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secret values, for :func:`monte_carlo_push_provider.utils.redact.scrub`."""
        return tuple(v for v in (self.ingest_key_secret, self.graphql_key_secret) if v)

    def require_ingestion_key(self) -> tuple[str, str]:
        if self.ingest_key_id and self.ingest_key_secret:
            return self.ingest_key_id, self.ingest_key_secret
        missing = [
            label
            for label, value in (
                ("ingestion key id (connection login or MCD_INGEST_ID)", self.ingest_key_id),
                ("ingestion key secret (connection password or MCD_INGEST_TOKEN)", self.ingest_key_secret),
            )
            if not value
        ]
        raise MonteCarloConfigError(
            f"Monte Carlo {' and '.join(missing)} is missing. Pushes need a key with the "
            f"Ingestion scope; create one with `{CREATE_INGESTION_KEY}` and store its id as the "
            "connection's login and its secret as the password."
        )

    def require_graphql_key(self) -> tuple[str, str]:
        if self.graphql_key_id and self.graphql_key_secret:
            return self.graphql_key_id, self.graphql_key_secret
        missing = [
            label
            for label, value in (
                ("GraphQL key id (extra graphql_key_id or MCD_ID)", self.graphql_key_id),
                ("GraphQL key secret (extra graphql_key_secret or MCD_TOKEN)", self.graphql_key_secret),
            )
            if not value
        ]
        raise MonteCarloConfigError(
            f"Monte Carlo {' and '.join(missing)} is missing. GraphQL calls (sensor, custom "
            "lineage, deletes, test_connection) need an API key, which is not the ingestion key: "
            f"create one in {CREATE_GRAPHQL_KEY}."
        )

    def require_resource_uuid(self, override: str | None = None) -> str:
        uuid = override or self.resource_uuid
        if not uuid:
            raise MonteCarloConfigError(
                "No Monte Carlo resource (warehouse) UUID: set the connection extra resource_uuid, "
                "the manifest's resource_uuid, or MCD_RESOURCE_UUID. Find it with the GraphQL query "
                "`getUser { account { warehouses { uuid name connectionType } } }` or "
                "`montecarlo integrations list`."
            )
        return uuid


class MonteCarloHook(BaseHook):
    """Interact with Monte Carlo's push-ingestion gateway and GraphQL API.

    Connection (type ``monte_carlo``): ``login`` = ingestion key id, ``password`` = ingestion key
    secret; extras ``graphql_key_id``, ``graphql_key_secret``, ``resource_uuid``,
    ``ingest_endpoint``, ``graphql_endpoint``, ``timeout_s``. Empty fields fall back to
    ``MCD_INGEST_ID``, ``MCD_INGEST_TOKEN``, ``MCD_ID``, ``MCD_TOKEN``, ``MCD_RESOURCE_UUID``.
    """

    conn_name_attr = "monte_carlo_conn_id"
    default_conn_name = "monte_carlo_default"
    conn_type = "monte_carlo"
    hook_name = "Monte Carlo"

    def __init__(self, monte_carlo_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.monte_carlo_conn_id = monte_carlo_conn_id
        self._credentials: MonteCarloCredentials | None = None
        self._http: httpx.Client | None = None  # opened on the first GraphQL call
        self._ahttp: httpx.AsyncClient | None = None  # opened on the first async call

    def __repr__(self) -> str:
        return f"MonteCarloHook(monte_carlo_conn_id={self.monte_carlo_conn_id!r})"

    # -- credentials ---------------------------------------------------------------------------

    def get_credentials(self) -> MonteCarloCredentials:
        if self._credentials is not None:
            return self._credentials
        conn = self.get_connection(self.monte_carlo_conn_id)
        extra = conn.extra_dejson or {}
        values: dict[str, Any] = {
            "ingest_key_id": conn.login,
            "ingest_key_secret": conn.password,
            "graphql_key_id": extra.get("graphql_key_id"),
            "graphql_key_secret": extra.get("graphql_key_secret"),
            "resource_uuid": extra.get("resource_uuid"),
        }
        sources = {}
        for key, env_name in ENV_FALLBACKS.items():
            # Register the value as pasted *and* stripped with the masker before anything can
            # fail on it, then decide on the stripped value (a whitespace-only field is empty).
            if key in _SECRET_FIELDS:
                for raw_value in (values[key], os.environ.get(env_name)):
                    if isinstance(raw_value, str):
                        _mask(raw_value)
                        _mask(raw_value.strip())
            if isinstance(values[key], str) and values[key].strip():
                sources[key] = "connection"
            elif (os.environ.get(env_name) or "").strip():
                values[key] = os.environ[env_name]
                sources[key] = env_name
            else:
                values[key] = None
        try:
            timeout_s = float(extra.get("timeout_s") or DEFAULT_TIMEOUT_S)
        except (TypeError, ValueError):
            raise MonteCarloConfigError(
                f"Connection {self.monte_carlo_conn_id!r}: extra timeout_s must be a number of "
                f"seconds, got {extra.get('timeout_s')!r}"
            ) from None
        self._credentials = MonteCarloCredentials(
            **values,
            ingest_endpoint=(extra.get("ingest_endpoint") or DEFAULT_INGEST_ENDPOINT).rstrip("/"),
            graphql_endpoint=extra.get("graphql_endpoint") or DEFAULT_GRAPHQL_ENDPOINT,
            timeout_s=timeout_s,
            sources=sources,
        )
        return self._credentials

    @property
    def resource_uuid(self) -> str | None:
        return self.get_credentials().resource_uuid

    # -- pycarlo clients -----------------------------------------------------------------------

    def get_ingestion_client(self) -> Client:
        """A pycarlo ``Client`` whose session has the ``Ingestion`` scope (for ``/ingest/v1/*``).

        Its endpoint is the connection's ``ingest_endpoint``, whatever ``MCD_API_ENDPOINT`` says:
        pycarlo's ``Session`` lets that variable override ``endpoint=``, which would send pushes
        to whatever host it names (typically the GraphQL API, set for Monte Carlo's CLI).
        """
        quiet_pycarlo()
        from pycarlo.core import Client, Session

        creds = self.get_credentials()
        key_id, secret = creds.require_ingestion_key()
        session = Session(mcd_id=key_id, mcd_token=secret, scope="Ingestion", endpoint=creds.ingest_endpoint)
        _pin_endpoint(session, creds.ingest_endpoint, "pushes", self.log)
        return Client(session=session)

    def get_graphql_client(self) -> Client:
        """A pycarlo ``Client`` for the GraphQL API (no scope), for your own pycarlo queries. The
        provider itself goes through :meth:`graphql` / :meth:`agraphql` (one transport)."""
        quiet_pycarlo()
        from pycarlo.core import Client, Session

        creds = self.get_credentials()
        key_id, secret = creds.require_graphql_key()
        session = Session(mcd_id=key_id, mcd_token=secret, endpoint=creds.graphql_endpoint)
        # Pinned to the connection's graphql_endpoint, like get_ingestion_client (MCD_API_ENDPOINT).
        _pin_endpoint(session, creds.graphql_endpoint, "GraphQL calls", self.log)
        return Client(session=session)

    def get_ingestion_service(self) -> IngestionService:
        from pycarlo.features.ingestion import IngestionService

        return IngestionService(mc_client=self.get_ingestion_client())

    # -- GraphQL (one transport: httpx, sync and async) ------------------------------------

    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, *, retry: bool = True, not_found_ok: bool = False
    ) -> dict[str, Any]:
        """Run a GraphQL document and return its ``data`` (Monte Carlo's camelCase field names).

        :param retry: retry 429 / 5xx / network failures a few times with jittered backoff
            (the sensor passes ``False``: its poll loop is the retry).
        :param not_found_ok: a field error that only says a node does not exist (the real API's
            answer for an unknown table or MCON) returns ``data`` with that field null instead of
            raising.
        :raises MonteCarloRejectedError: key refused (401/403) or document refused (400): a
            retry will not fix it.
        :raises MonteCarloPushError: transient failures (retryable by Airflow).
        """
        from monte_carlo_push_provider.utils.graphql_transport import post_sync

        creds = self.get_credentials()
        return post_sync(self._sync_client(), creds, query, variables, retry=retry, not_found_ok=not_found_ok)

    async def agraphql(
        self, query: str, variables: dict[str, Any] | None = None, *, retry: bool = True, not_found_ok: bool = False
    ) -> dict[str, Any]:
        """:meth:`graphql` for the triggerer's event loop (httpx.AsyncClient, same answers)."""
        from monte_carlo_push_provider.utils.graphql_transport import post_async

        if self._credentials is None:
            from asgiref.sync import sync_to_async

            # Connection lookup blocks (secrets backends, the API server in Airflow 3): not on the loop.
            await sync_to_async(self.get_credentials)()
        creds = self.get_credentials()
        return await post_async(self._async_client(), creds, query, variables, retry=retry, not_found_ok=not_found_ok)

    def _sync_client(self) -> httpx.Client:
        if self._http is None:
            from monte_carlo_push_provider.utils.graphql_transport import make_client

            self._http = make_client(self.get_credentials(), asynchronous=False)
        return self._http

    def _async_client(self) -> httpx.AsyncClient:
        if self._ahttp is None:
            from monte_carlo_push_provider.utils.graphql_transport import make_client

            self._ahttp = make_client(self.get_credentials(), asynchronous=True)
        return self._ahttp

    def close(self) -> None:
        """Close the HTTP connection pool (the hook opens it on the first GraphQL call)."""
        if self._http is not None:
            self._http.close()
            self._http = None

    async def aclose(self) -> None:
        if self._ahttp is not None:
            await self._ahttp.aclose()
            self._ahttp = None

    # -- resources -----------------------------------------------------------------------------

    def list_warehouses(self) -> dict[str, dict[str, Any]]:
        """The account's warehouses by UUID (``name``, ``connection_type``), from GraphQL
        ``getUser``; fetched once per hook instance (a task creates one hook)."""
        cached: dict[str, dict[str, Any]] | None = getattr(self, "_warehouses", None)
        if cached is None:
            data = self.graphql("query { getUser { account { warehouses { uuid name connectionType } } } }")
            # Either key style: pycarlo's client answers snake_case, a plain transport camelCase.
            user = data.get("getUser") or data.get("get_user") or {}
            warehouses = ((user.get("account") or {}).get("warehouses")) or []
            cached = self._warehouses = {
                str(w.get("uuid")).lower(): {
                    "name": w.get("name"),
                    "connection_type": w.get("connectionType") or w.get("connection_type"),
                }
                for w in warehouses
            }
        return cached

    def verify_resources(
        self,
        pairs: Iterable[tuple[str, str]],
        *,
        log_types: Iterable[tuple[str, str]] = (),
    ) -> bool:
        """Check, before anything is pushed, that each resource UUID is a warehouse of this
        account and that its connection type fits the ``resource_type`` (``pairs``: metadata and
        lineage) or query-log ``log_type`` (``log_types``) the push will name.

        Returns False (and checks nothing) when no GraphQL key is configured: the check is
        optional, the gateway still refuses a wrong UUID (403) or type (400). Raises
        :class:`~monte_carlo_push_provider.utils.errors.MonteCarloManifestError` naming the UUID,
        what was expected, the account's warehouses and the fix. The account's warehouse list is
        fetched once per hook instance (one GraphQL call per task).
        """
        from monte_carlo_push_provider.manifest import connection_types_for
        from monte_carlo_push_provider.utils.errors import CHECKPOINT_RESOURCE, MonteCarloManifestError

        creds = self.get_credentials()
        if not (creds.graphql_key_id and creds.graphql_key_secret):
            return False
        wanted = [("resource_type", u, t) for u, t in pairs] + [("log_type", u, t) for u, t in log_types]
        if not wanted:
            return True
        warehouses = self.list_warehouses()
        known = "; ".join(f"{w['name']} ({w['connection_type']}): {u}" for u, w in warehouses.items()) or "none"
        for label, uuid, value in wanted:
            warehouse = warehouses.get(str(uuid).lower())
            if warehouse is None:
                raise MonteCarloManifestError(
                    f"{CHECKPOINT_RESOURCE}: resource UUID {uuid} (pushed with {label} {value!r}) is not a "
                    f"warehouse of this Monte Carlo account (GraphQL getUser lists: {known}). Set the "
                    "manifest's resource_uuid, the operator's resource_uuid or the connection extra "
                    "resource_uuid to one of these."
                )
            expected = connection_types_for(label, value)
            actual = str(warehouse["connection_type"] or "").upper()
            if expected and actual and actual not in expected:
                raise MonteCarloManifestError(
                    f"{CHECKPOINT_RESOURCE}: resource {uuid} ({warehouse['name']}) is a {actual} warehouse in "
                    f"Monte Carlo, but the push names {label} {value!r}, which needs a "
                    f"{' or '.join(sorted(expected))} warehouse. Point the push at the right warehouse "
                    "UUID, or fix the collector's resource_type / log_type."
                )
        return True

    # -- connection test -----------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """Check both keys and the resource UUID without pushing anything.

        The ingestion key is checked with an empty metadata request: the gateway authenticates
        before it validates, so a 400 ("events required") proves the key while a 401/403 names
        the problem. The GraphQL key is checked with ``getUser``, which also lists the account's
        warehouses so an unknown ``resource_uuid`` is caught.
        """
        from monte_carlo_push_provider.utils.errors import MonteCarloPushError, explain_http_error

        try:
            creds = self.get_credentials()
            messages = []
            client = self.get_ingestion_client()
            try:
                client.make_request(
                    "/ingest/v1/metadata",
                    body={"event_type": "METADATA", "resource": {"uuid": creds.resource_uuid}, "events": []},
                    timeout_in_seconds=int(creds.timeout_s),
                    should_retry=lambda _err: False,
                )
            except Exception as err:
                status = getattr(getattr(err, "response", None), "status_code", None)
                if status != 400:
                    raise explain_http_error(err, creds, path="/ingest/v1/metadata") from None
            messages.append(f"ingestion key {creds.ingest_key_id} accepted by {creds.ingest_endpoint}")
            if creds.graphql_key_id or creds.graphql_key_secret:
                data = self.graphql(
                    "query { getUser { email account { uuid warehouses { uuid name connectionType } } } }"
                )
                user = data.get("getUser") or {}
                warehouses = ((user.get("account") or {}).get("warehouses")) or []
                messages.append(f"GraphQL key works (user {user.get('email')})")
                if creds.resource_uuid:
                    match = [w for w in warehouses if w.get("uuid") == creds.resource_uuid]
                    if not match:
                        known = ", ".join(
                            f"{w.get('name')} ({w.get('connectionType')}): {w.get('uuid')}" for w in warehouses
                        )
                        return False, (
                            f"resource_uuid {creds.resource_uuid} is not a warehouse of this account; "
                            f"known warehouses: {known or 'none'}"
                        )
                    messages.append(f"resource {match[0].get('name')} ({match[0].get('connectionType')})")
            return True, "; ".join(messages)
        except (MonteCarloConfigError, MonteCarloPushError) as err:
            return False, str(err)

