"""The sandbox's contract values (written from the contract doc and pycarlo, in
``monte_carlo_sandbox.contract``) agree with the provider's: if they drift, one side is wrong
about the gateway, and this says which values differ."""

from __future__ import annotations

import pytest

from monte_carlo_push_provider import manifest
from monte_carlo_push_provider.utils import wire
from monte_carlo_sandbox import contract


@pytest.mark.parametrize("name", ["ASSET_TYPES", "LINEAGE_ASSET_TYPES", "QUERY_LOG_TYPES"])
def test_value_sets_agree_with_the_provider(name: str) -> None:
    ours, theirs = getattr(contract, name), getattr(manifest, name)
    assert ours == theirs, f"{name}: only in the sandbox {sorted(ours - theirs)}, only in the provider {sorted(theirs - ours)}"


def test_size_rule_agrees_with_the_provider() -> None:
    assert contract.MAX_COMPRESSED_BYTES == wire.MAX_COMPRESSED_BYTES
    assert contract.GZIP_LEVEL == wire.GZIP_LEVEL
    body = wire.json_body({"events": [{"name": f"table_{i}", "n": i} for i in range(2000)]})
    assert contract.gzip_size(body) == wire.gzip_size(body)


@pytest.mark.parametrize(
    "value", ["2026-11-25T10:00:00Z", "2026-11-25T10:00:00+00:00", "2026-11-25T10:00:00+02:00", "2026-11-25", "yesterday"]
)
def test_timestamps_the_sandbox_takes_are_the_ones_the_provider_writes(value: str) -> None:
    def verdict(parse, error):  # noqa: ANN001, ANN202 - two parsers, same shape
        try:
            return parse(value, field="t")
        except error:
            return "refused"

    assert verdict(contract.parse_utc, contract.TimestampError) == verdict(manifest.parse_utc, manifest.ManifestError)


def test_the_sandbox_imports_nothing_from_the_provider() -> None:
    import subprocess
    import sys

    code = (
        "import sys, monte_carlo_sandbox.server, monte_carlo_sandbox.graphql_api, monte_carlo_sandbox.testing, "
        "monte_carlo_sandbox.__main__, monte_carlo_sandbox.process; "
        "print(sorted(m for m in sys.modules if m.startswith('monte_carlo_push_provider')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
