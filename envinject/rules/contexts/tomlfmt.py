"""Tags in a TOML file (``.toml``), as ``tomllib`` (TOML 1.0) reads it. Pure.

What is written where a tag stands (toml.io, v1.0.0, "String"):

* outside a string (a value, a key, a table name, an array item): a basic string ``"..."``, with ``\\``,
  ``"`` and every control character but tab written as an escape (``\\n``, ``\\u001b``, ...);
* inside a basic string (``"..."`` or ``\"\"\"...\"\"\"``): the same escapes, without the quotes;
* inside a literal string (``'...'`` or ``'''...'''``): as it is; a ``'`` or a control character (tab
  apart, and a line feed in a multi-line one) is refused, since a literal string has no escapes.

Refused places: a comment, right after a backslash in a basic string.
"""

from __future__ import annotations

import re

from ..escaping import Unwritable
from . import Write, refused

_BASIC = re.compile(r'[\\"\x00-\x08\x0a-\x1f\x7f]')
_NAMED = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_LITERAL_UNSAFE = re.compile(r"['\x00-\x08\x0a-\x1f\x7f]")
_ML_LITERAL_UNSAFE = re.compile(r"['\x00-\x08\x0b-\x1f\x7f]")
_HINT = 'make the tag a whole value (key = {{ ... }}) or put it inside a basic string "..."'


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    return _NAMED.get(ch) or f"\\u{ord(ch):04x}"


def string(value: str) -> str:
    """A TOML basic string, quotes included."""
    return '"' + in_basic(value) + '"'


def in_basic(value: str) -> str:
    """The inside of a basic string, one line or multi-line."""
    return _BASIC.sub(_escape, value)


def in_literal(value: str) -> str:
    """The inside of a one-line literal string."""
    if _LITERAL_UNSAFE.search(value):
        raise Unwritable("a ' or a control character, which a TOML literal string cannot hold", _HINT)
    return value


def in_multiline_literal(value: str) -> str:
    """The inside of a multi-line literal string."""
    if _ML_LITERAL_UNSAFE.search(value):
        raise Unwritable("a ' or a control character, which a TOML literal string cannot hold", _HINT)
    return value


def _first_line(value: str) -> str:
    # A line feed right after the opening ''' is dropped by the reader.
    if value.startswith("\n"):
        raise Unwritable("a first line feed, which TOML drops right after an opening '''", _HINT)
    return in_multiline_literal(value)


def scan(pieces: list[str], wheres: list[str]) -> list[Write]:
    """How each tag of a TOML file is written, in order; ConfigError for a tag where nothing can be."""
    state, just_opened = "out", False
    writes: list[Write] = []
    for piece, where in zip(pieces, wheres, strict=False):
        pending, i = False, 0
        while i < len(piece):
            c = piece[i]
            just_opened = False
            if state == "comment":
                state = "out" if c == "\n" else state
            elif state in ("basic", "ml-basic"):
                if c == "\\":
                    pending = i + 1 == len(piece)
                    i += 1
                elif state == "basic" and c == '"':
                    state = "out"
                elif state == "ml-basic" and piece.startswith('"""', i):
                    run = len(piece[i:]) - len(piece[i:].lstrip('"'))
                    state, i = "out", i + min(run, 5) - 1
            elif state == "literal":
                state = "out" if c == "'" else state
            elif state == "ml-literal":
                if piece.startswith("'''", i):
                    run = len(piece[i:]) - len(piece[i:].lstrip("'"))
                    state, i = "out", i + min(run, 5) - 1
            elif c == "#":
                state = "comment"
            elif piece.startswith('"""', i):
                state, i, just_opened = "ml-basic", i + 2, True
            elif c == '"':
                state = "basic"
            elif piece.startswith("'''", i):
                state, i, just_opened = "ml-literal", i + 2, True
            elif c == "'":
                state = "literal"
            i += 1
        if pending:
            raise refused(where, "right after a backslash", "remove the backslash")
        if state == "comment":
            raise refused(where, "in a comment", _HINT)
        if state == "ml-literal":
            writes.append(_first_line if just_opened else in_multiline_literal)
        else:
            writes.append({"out": string, "basic": in_basic, "ml-basic": in_basic, "literal": in_literal}[state])
    return writes
