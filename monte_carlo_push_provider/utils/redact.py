"""Scrub secrets out of text that is about to reach a log line or an exception message.

Transport libraries put header *values* into their exception text: requests' ``InvalidHeader``
("... in header value: 'abc\\n'"), httpx's ``LocalProtocolError`` ("Illegal header value
b'abc\\n'"), urllib3 debug output, a repr of a headers dict. Airflow's secrets masker matches the
value it was registered with, not its ``repr`` (a trailing newline becomes ``\\n``), so text that
carries an escaped secret sails through it. Everything transport-related this provider logs or
raises goes through :func:`scrub` first.

Stdlib only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

MASK = "***"
#: Headers that carry credentials (x-mcd-id is a key *id*, not a secret, but it is a header
#: value of the same request and is scrubbed with the others when it appears as a header).
SECRET_HEADERS = ("x-mcd-token", "x-mcd-id", "authorization")

# "x-mcd-token: v", "'x-mcd-token': 'v'", "x-mcd-token=v", "(b'x-mcd-token', b'v')", "Bearer v"
_HEADER_VALUE = re.compile(
    r"(?i)(?P<name>x-mcd-token|x-mcd-id|authorization)(?P<sep>['\"]?\s*(?:[:=,]\s*)b?['\"]?)"
    r"(?P<value>[^'\"\r\n,;)}\]]*)"
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")
#: Shorter "secrets" would mask ordinary words; real keys are far longer.
_MIN_SECRET_LEN = 4


def _forms(secret: str) -> set[str]:
    """The ways a secret's text can appear: as is, stripped, and escaped the way ``repr``,
    ``json`` and bytes reprs render control characters and non-ASCII."""
    forms = {secret, secret.strip(), repr(secret)[1:-1], json.dumps(secret)[1:-1]}
    forms.add(secret.encode("unicode_escape").decode("ascii"))
    try:
        forms.add(repr(secret.encode("latin-1"))[2:-1])
    except UnicodeEncodeError:
        forms.add(repr(secret.encode("utf-8", "backslashreplace"))[2:-1])
    return {f for f in forms if len(f) >= _MIN_SECRET_LEN}


def scrub(text: object, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every form of each secret, and the value of every credential header,
    replaced by ``***``."""
    out = str(text)
    # Longest first, so a stripped form does not leave the escaped tail of a longer one behind.
    forms = sorted({f for s in secrets if s for f in _forms(s)}, key=len, reverse=True)
    for form in forms:
        out = out.replace(form, MASK)
    out = _HEADER_VALUE.sub(lambda m: f"{m['name']}{m['sep']}{MASK}" if m["value"] else m[0], out)
    return _BEARER.sub(lambda m: f"{m[1]}{MASK}", out)


def describe_exception(err: BaseException, secrets: Iterable[str | None] = (), *, limit: int = 500) -> str:
    """``"TypeName: message"`` of a transport exception, scrubbed and trimmed."""
    return scrub(f"{type(err).__name__}: {err}", secrets)[:limit]
