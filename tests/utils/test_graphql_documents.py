"""Every GraphQL document of the package validates against the schema shipped inside pycarlo.

The schema is pycarlo's ``lib/schema.json`` (an introspection result), loaded with graphql-core.
``assume_valid=True`` because the introspection encodes enum default values as strings, which
graphql-core's schema validation refuses although documents validate fine against it.
"""

from __future__ import annotations

import json
from importlib import resources

import graphql
import pytest

from monte_carlo_push_provider.utils import graphql_documents


@pytest.fixture(scope="module")
def schema() -> graphql.GraphQLSchema:
    data = json.loads((resources.files("pycarlo") / "lib" / "schema.json").read_text(encoding="utf-8"))
    return graphql.build_client_schema(data["data"] if "data" in data else data, assume_valid=True)


def module_documents() -> dict[str, str]:
    """Every module-level string constant that parses as a GraphQL operation."""
    found = {}
    for name, value in vars(graphql_documents).items():
        if name.isupper() and isinstance(value, str) and value.lstrip().startswith(("query", "mutation")):
            found[name] = value
    return found


def test_all_documents_lists_every_document():
    # A document added to the module but not to ALL_DOCUMENTS would escape the test below.
    assert module_documents() == graphql_documents.ALL_DOCUMENTS
    assert len(graphql_documents.ALL_DOCUMENTS) >= 11


@pytest.mark.parametrize("name", sorted(graphql_documents.ALL_DOCUMENTS))
def test_document_is_valid_against_pycarlo_schema(schema, name):
    document = graphql.parse(graphql_documents.ALL_DOCUMENTS[name])
    errors = graphql.validate(schema, document)
    assert errors == [], f"{name}: {[e.message for e in errors]}"
    operations = [d for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode)]
    assert len(operations) == 1 and operations[0].name is not None, f"{name} must be one named operation"


@pytest.mark.parametrize(
    "wrong",
    [
        # Monte Carlo's guide: mcon / dwId as top-level arguments of getMetricsV4.
        'query { getMetricsV4(dwId: "00000000-0000-0000-0000-000000000000", mcon: "m", metricName: "total_row_count", '
        'startTime: "2026-01-01") { metricsJson } }',
        # Monte Carlo's guide: first/after pagination and edges { node } on getAggregatedQueries.
        'query { getAggregatedQueries(mcon: "m", startTime: "2026-01-01", endTime: "2026-01-02", first: 10) '
        "{ edges { node { queryHash } } } }",
        # Monte Carlo's guide: destinations { table { mcon } }.
        'query { getDerivedTablesPartialLineage(mcon: "m", column: "c") { destinations { table { mcon } } } }',
    ],
)
def test_validation_catches_the_guides_wrong_signatures(schema, wrong):
    # Proves the check above can fail: the prose signatures are rejected by the same schema.
    assert graphql.validate(schema, graphql.parse(wrong))
