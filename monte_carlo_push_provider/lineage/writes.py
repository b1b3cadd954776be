"""Which query-log texts can change lineage at all, decided without parsing.

Most of a busy warehouse's hour is reads: dashboards, reports, notebooks, ``SET`` / ``SHOW``.
A read names no destination, so the batch (:mod:`.batch`) records nothing for it, yet it would
still pay for a fingerprint and, once per shape, a parse. :func:`may_write` lets the batch skip
such texts before either.

The rule is one-sided on purpose. A text is called read-only only when none of the keywords
below occurs in it as a whole word, anywhere: not in code, not in a literal, not in a comment, in
any case. Every statement the engine takes lineage from starts with or contains one of them
(``SELECT ... INTO`` has INTO, ``WITH ... INSERT`` has INSERT, ``REPLACE INTO`` / ``UPSERT INTO``
have INTO, Databricks ``REPLACE TABLE`` has REPLACE, MySQL ``RENAME TABLE`` has RENAME), and a
``DROP`` matters too (a table written and then dropped is scratch space). A word in a string,
a comment or an identifier only means the text is parsed as before; nothing is ever missed
because a keyword hid. ``tests/lineage/test_writes.py`` checks the rule against the engine.
"""

from __future__ import annotations

import re

#: Statement keywords of everything that writes, renames or drops a table (see the module doc).
WRITE_KEYWORDS = (
    "ALTER", "COPY", "CREATE", "DELETE", "DROP", "INSERT", "INTO", "MERGE", "OVERWRITE",
    "RENAME", "REPLACE", "SWAP", "TRUNCATE", "UNLOAD", "UPDATE", "UPSERT",
)

_WRITE = re.compile(r"\b(?:" + "|".join(WRITE_KEYWORDS) + r")\b", re.IGNORECASE)


def may_write(text: str) -> bool:
    """False only when ``text`` certainly writes, renames and drops nothing (see the module doc)."""
    return _WRITE.search(text) is not None
