"""Query shapes: one fingerprint for every query that differs from another only in literals.

A busy warehouse runs the same few thousand statements (dashboards, dbt models, loaders) with
different literals. :func:`fingerprint` maps a text to its *shape*: string and number literals
become placeholders, comments disappear, and everything else (identifiers, their quoting and
case, keywords, punctuation, whitespace) is kept byte for byte, so two texts that could name
different tables or columns never share a shape. The literal values are returned too: the batch
uses them to check, after parsing one query of the shape, that no literal fed a name (see
:func:`literals_named`).

Two implementations, one contract:

* a single regular-expression pass for the dialects whose lexical rules it mirrors exactly
  (about 20x cheaper than sqlglot's tokenizer, which is itself about a third of a parse);
* sqlglot's own tokenizer for everything else, and for any text holding a construct the
  regular expression does not model (backslash escapes, dollar quoting, triple quotes, nested
  comments, ``#`` comments). The parser uses that same tokenizer, so literal boundaries are
  exactly the ones it sees.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

STRING = "\x00s"  # placeholders cannot occur in SQL text outside a literal
NUMBER = "\x00n"

# Dialects whose quoting the fast path models: strings '...' ('' doubles a quote), identifiers
# "..." or `...`, comments -- and /* */ (plus // on Snowflake). Double-quoted strings (BigQuery,
# Hive, Spark) are kept verbatim like identifiers, which only ever splits shapes, never merges them.
_FAST_DIALECTS = frozenset({"snowflake", "bigquery", "redshift", "postgres", "databricks", "spark", "hive", ""})

# A string literal directly after these is (or may be) a name, not a value: IDENTIFIER('t'),
# TABLE('t'), FROM 't' (sqlglot reads a quoted FROM/JOIN/INTO/UPDATE target as a table in every
# dialect), AS 'alias', USE 'db'. Such literals stay in the shape, except in a COPY/UNLOAD statement
# outside parentheses (see _COPY_HEAD).
_NAME_CONTEXT = re.compile(
    r"(?:\b(?:IDENTIFIER|TABLE)\s*\(\s*|\b(?:FROM|JOIN|INTO|AS|USE|UPDATE|TABLE|RENAME\s+TO)\s+)$",
    re.IGNORECASE,
)

# COPY t FROM 's3://...' IAM_ROLE '...', COPY INTO t FROM '@stage/...', COPY t TO 'f.csv',
# UNLOAD ('select ...') TO 's3://...': outside parentheses every string of such a statement is a
# location, a credential or an option value, never a table (sqlglot keeps a COPY source or target
# string a Literal, which names nothing), so it becomes a placeholder whatever keyword precedes it
# and the S3 path varies freely within one shape. Inside parentheses (COPY (SELECT * FROM 'f.csv')
# TO ...) the usual rule applies. Only texts that start with COPY/UNLOAD pay for the depth tracking.
_COPY_HEAD = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*(?:COPY|UNLOAD)\b", re.IGNORECASE | re.DOTALL)
_COPY_CODE = re.compile(r"[();]|[^\W\d]\w*")
_COPY_KEYWORDS = frozenset({"COPY", "UNLOAD"})


class _CopyTracker:
    """Whether a position of a text is inside a COPY/UNLOAD statement and outside parentheses.

    Fed the code between literals (never the inside of a string, identifier or comment) in order.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.first = True  # the next word is a statement's first
        self.copy = False

    def feed_word(self, word: str) -> None:
        if word == "(":
            self.depth += 1
        elif word == ")":
            self.depth = max(0, self.depth - 1)
        elif word == ";":
            self.depth, self.first, self.copy = 0, True, False
        elif self.first:
            self.first = False
            self.copy = word.upper() in _COPY_KEYWORDS

    def feed(self, code: str) -> None:
        for word in _COPY_CODE.findall(code):
            self.feed_word(word)

    @property
    def location(self) -> bool:
        return self.copy and self.depth == 0


_BASE = (
    # A run of characters none of the other groups can start with, consumed in one step: without
    # it the engine tries every alternative at every character (4x slower on long dbt models).
    # The callback hands it back unchanged.
    r"(?P<k>[^'\"`/\-\d]+)"
    r"|(?P<s>'(?:[^'\\]|'')*')"
    r"|(?P<q>\"(?:[^\"]|\"\")*\"|`[^`]*`)"
    r"|(?P<c>--[^\n]*|/\*.*?\*/{extra})"
    # A number that is a whole token: not part of a name (t1, my-proj-2), a bind or positional
    # reference ($1, :1, @1, ?1) or a qualified path (.5 after a name).
    r"|(?P<n>(?<![\w$@:?.\-])\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.]))"
)
_PATTERN = re.compile(_BASE.format(extra=""), re.DOTALL)
_PATTERN_SNOWFLAKE = re.compile(_BASE.format(extra=r"|//[^\n]*"), re.DOTALL)

# Text the fast path does not model; such texts go through sqlglot's tokenizer instead.
_UNMODELLED = re.compile(r"\\|\$\w*\$|'''|\"\"\"")
_HASH_COMMENT_DIALECTS = frozenset({"bigquery"})


class _Unmodelled(Exception):
    pass


@dataclass(frozen=True)
class Shape:
    """A text's shape key and the literal values it abstracted away (in order)."""

    key: str
    literals: tuple[str, ...]


def fingerprint(text: str, dialect: str = "") -> Shape:
    """The shape of ``text`` under ``dialect``'s lexical rules."""
    text = text.strip()
    if dialect in _FAST_DIALECTS and not _UNMODELLED.search(text) and not (
        dialect in _HASH_COMMENT_DIALECTS and "#" in text
    ):
        try:
            return _fast(text, _PATTERN_SNOWFLAKE if dialect == "snowflake" else _PATTERN)
        except _Unmodelled:
            pass
    return _tokenized(text, dialect)


def _fast(text: str, pattern: re.Pattern[str]) -> Shape:
    literals: list[str] = []
    kept = [0, 0, 0]  # quote characters inside text kept verbatim: ' " `
    copy = _CopyTracker() if _COPY_HEAD.match(text) else None
    code_start = [0]

    def replace(m: re.Match[str]) -> str:
        kind = m.lastgroup
        value = m.group()
        if kind == "k":
            return value  # plain code: the COPY tracker reads it with the next token's code
        location = False
        if copy is not None:
            copy.feed(m.string[code_start[0]:m.start()])
            code_start[0] = m.end()
            location = kind == "s" and copy.location
        if kind == "c":
            if "/*" in value[2:]:
                raise _Unmodelled  # nested comment: some dialects nest, this pass does not
            return " "
        if kind == "q" or (
            kind == "s" and not location and _NAME_CONTEXT.search(m.string, max(0, m.start() - 24), m.start())
        ):
            kept[0] += value.count("'")
            kept[1] += value.count('"')
            kept[2] += value.count("`")
            return value
        if kind == "s":
            literals.append(value[1:-1].replace("''", "'"))
            return STRING
        literals.append(value)
        return NUMBER

    key = pattern.sub(replace, text).strip()
    if (key.count("'"), key.count('"'), key.count("`")) != tuple(kept):
        raise _Unmodelled  # an unterminated quote: let the real tokenizer decide
    return Shape(key, tuple(literals))


def _tokenized(text: str, dialect: str) -> Shape:
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.tokens import TokenType

    literal_types = _literal_types(TokenType)
    tokens = Dialect.get_or_raise(dialect or None).tokenize(text)
    parts: list[str] = []
    literals: list[str] = []
    previous: list[str] = []
    last_end = -2
    copy = _CopyTracker()
    for token in tokens:
        location = token.token_type == TokenType.STRING and copy.location
        # $1, :1, @1, ?1: a positional column or bind reference written as prefix + number.
        reference = (
            token.token_type == TokenType.NUMBER and last_end + 1 == token.start and previous[-1:] in _PREFIXES
        )
        last_end = token.end
        if token.token_type in literal_types and not reference and (location or not _token_name_context(previous)):
            literals.append(token.text)
            parts.append(NUMBER if token.token_type == TokenType.NUMBER else STRING)
        else:
            # The token type keeps quoted identifiers ("T", IDENTIFIER) apart from unquoted (T, VAR).
            parts.append(f"{token.token_type.name}:{token.text}")
        previous = [*previous[-2:], token.text.upper()]
        if token.token_type == TokenType.L_PAREN or token.token_type == TokenType.R_PAREN:
            copy.feed_word(token.text)
        elif token.token_type == TokenType.SEMICOLON:
            copy.feed_word(";")
        elif token.token_type not in literal_types:
            copy.feed_word(token.text)
    return Shape("\x01".join(parts), tuple(literals))


_PREFIXES = (["$"], [":"], ["@"], ["?"], ["."], ["-"])


def _token_name_context(previous: list[str]) -> bool:
    if previous[-2:] in (["IDENTIFIER", "("], ["TABLE", "("]) or previous[-2:] == ["RENAME", "TO"]:
        return True
    return bool(previous) and previous[-1] in {"FROM", "JOIN", "INTO", "AS", "USE", "UPDATE", "TABLE"}


_LITERAL_TYPES: frozenset | None = None


def _literal_types(token_type: type) -> frozenset:
    global _LITERAL_TYPES
    if _LITERAL_TYPES is None:
        names = (
            "STRING", "NUMBER", "NATIONAL_STRING", "RAW_STRING", "HEREDOC_STRING", "BIT_STRING",
            "HEX_STRING", "BYTE_STRING", "UNICODE_STRING",
        )
        _LITERAL_TYPES = frozenset(getattr(token_type, n) for n in names if hasattr(token_type, n))
    return _LITERAL_TYPES


_WORD = re.compile(r"[^\W\d]\w*|\d+")
# A literal made only of these (or holding a quoted part) may be a dotted name ('d.s.t',
# 'my-proj.d.t', '"My T".c'); anything else (an S3 path, a URL, a stage, an ARN) is a value, whose
# dotted pieces ('part-1.csv' -> 'csv') name nothing and must not match a keyword of the shape.
_NAME_LIKE = re.compile(r"[\w$. -]*|.*[\"`\[].*", re.DOTALL)


def _in_name(piece: str, name: str) -> bool:
    """Whether ``piece`` occurs in ``name`` as a whole token: not glued to a letter or digit
    (``_`` separates, as in the PIVOT column 'jan'_total), so 30 is in revenue_30 but not in
    revenue_30d. An edge of the piece that is not alphanumeric needs no boundary."""
    start = name.find(piece)
    while start >= 0:
        end = start + len(piece)
        before_ok = start == 0 or not piece[0].isalnum() or not name[start - 1].isalnum()
        after_ok = end == len(name) or not piece[-1].isalnum() or not name[end].isalnum()
        if before_ok and after_ok:
            return True
        start = name.find(piece, start + 1)
    return False


def literals_named(literals: Iterable[str], tables: Iterable[str], columns: Iterable[str], key: str) -> bool:
    """Whether any literal could have become (or hidden) a name of the parsed result.

    True when a literal, or one of its dotted parts (quotes stripped), equals a part of a reported
    table name, occurs as a whole token in a reported column name (PIVOT ... IN ('JAN') AS total
    names a column 'JAN'_TOTAL; a value glued to other letters or digits, 30 in revenue_30d, is
    not), or equals a word of the shape ``key`` (a literal equal to a CTE or alias name can change
    what is resolved; only name-like literals are split into dotted parts for this); all ignoring
    case. False positives only cost caching.
    """
    pieces = set()
    key_pieces = set()
    for literal in literals:
        name_like = _NAME_LIKE.fullmatch(literal) is not None
        whole = literal.strip().strip("\"`[]'").strip().lower()
        if whole:
            key_pieces.add(whole)
        for part in literal.split("."):
            part = part.strip().strip("\"`[]'").strip().lower()
            if part:
                pieces.add(part)
                if name_like:
                    key_pieces.add(part)
    if not pieces:
        return False
    words = {w.lower() for w in _WORD.findall(key)}
    if key_pieces & words:
        return True
    for name in tables:
        if any(part.strip("\"`'") in pieces for part in name.lower().split(".")):
            return True
    for name in columns:
        lowered = name.lower()
        if any(_in_name(piece, lowered) for piece in pieces):
            return True
    return False
