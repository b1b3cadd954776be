"""The push contract's size rule, shared by the push operator (which batches to it) and the
sandbox (which enforces it) so both measure a body the same way.

The gateway forwards each request into a Kinesis record; the *gzip-compressed* JSON body must
stay under 1 MB. pycarlo sends the body as ``requests``' ``json=`` does: ``json.dumps`` with its
default separators.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

#: The compressed-body limit (1 MB, decimal: the stricter reading of the guide's "1 MB").
MAX_COMPRESSED_BYTES = 1_000_000
#: gzip level used to measure; level 6 is zlib's and gzip(1)'s default.
GZIP_LEVEL = 6


def json_body(payload: Any) -> bytes:
    """The exact bytes ``requests.post(json=payload)`` puts on the wire."""
    return json.dumps(payload, allow_nan=False).encode("utf-8")


def gzip_size(body: bytes) -> int:
    """Length of ``body`` gzip-compressed at :data:`GZIP_LEVEL` (header and trailer included)."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    return len(compressor.compress(body)) + len(compressor.flush())
