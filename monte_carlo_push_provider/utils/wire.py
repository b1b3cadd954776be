"""The push contract's size rule the push operator batches to. The sandbox enforces the same rule
from its own copy (``monte_carlo_sandbox.contract``, measured the same way: gzip level 6 of
these bytes); ``tests/sandbox/test_contract.py`` checks the two agree.

The gateway forwards each request into a Kinesis record; the *gzip-compressed* JSON body must
stay under 1 MB. pycarlo sends the body as ``requests``' ``json=`` does: ``json.dumps`` with its
default separators, uncompressed, so the raw body is bounded too (:data:`MAX_RAW_BYTES`).
"""

from __future__ import annotations

import json
import zlib
from typing import Any

#: The compressed-body limit (1 MB, decimal: the stricter reading of the guide's "1 MB").
MAX_COMPRESSED_BYTES = 1_000_000
#: The raw (uncompressed) body limit this provider batches to. pycarlo posts plain JSON, so the
#: HTTP body is 10-20x the gzip size; the gateway's own raw cap is not documented, but a gateway
#: in front of Lambda refuses bodies over 6 MB (API Gateway: 10 MB) with 413. 5 MB (decimal)
#: leaves room under the strictest of those.
MAX_RAW_BYTES = 5_000_000
#: gzip level used to measure; level 6 is zlib's and gzip(1)'s default.
GZIP_LEVEL = 6


def json_body(payload: Any) -> bytes:
    """The exact bytes ``requests.post(json=payload)`` puts on the wire."""
    return json.dumps(payload, allow_nan=False).encode("utf-8")


def gzip_size(body: bytes) -> int:
    """Length of ``body`` gzip-compressed at :data:`GZIP_LEVEL` (header and trailer included)."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    return len(compressor.compress(body)) + len(compressor.flush())
