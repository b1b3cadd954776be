"""scrub(): secrets in every form transport libraries print them, and credential header values."""

from __future__ import annotations

import pytest

from monte_carlo_push_provider.utils.redact import describe_exception, scrub

SECRET = "s3cr3t-token-value\n"


@pytest.mark.parametrize(
    "text",
    [
        # requests' InvalidHeader
        "Invalid leading whitespace, reserved character(s), or return character(s) in header value: "
        "'s3cr3t-token-value\\n'",
        # httpx / h11 LocalProtocolError
        "Illegal header value b's3cr3t-token-value\\n'",
        # a JSON rendering
        '{"x-mcd-token": "s3cr3t-token-value\\n"}',
        # the value as is
        "token s3cr3t-token-value\n and more",
    ],
    ids=["requests", "httpx", "json", "plain"],
)
def test_every_form_of_a_secret_is_masked(text):
    out = scrub(text, [SECRET])
    assert "s3cr3t-token-value" not in out and "***" in out


def test_header_values_are_masked_without_knowing_the_secret():
    text = "headers={'x-mcd-id': 'key-id-1', 'x-mcd-token': 'other-secret', 'Authorization': 'Bearer abc.def'}"
    out = scrub(text)
    assert "other-secret" not in out and "abc.def" not in out and "key-id-1" not in out
    assert out.count("***") == 3
    # prose about the headers is left alone
    assert scrub("Missing x-mcd-id / x-mcd-token headers") == "Missing x-mcd-id / x-mcd-token headers"


def test_describe_exception():
    err = ValueError(f"bad header value: {SECRET!r}")
    assert describe_exception(err, [SECRET]) == "ValueError: bad header value: '***'"
