"""Tags in a JSON file (``.json``), as ``json.loads`` and ``jq`` read it, comments (JSONC) included. Pure.

Outside a string (a value, a key, an array item) a tag is written as a JSON string, quotes included; inside a
string, as the inside of one. Refused places: a ``//`` or ``/* */`` comment (JSON with comments, as in
``tsconfig.json``: a line break in the value would end the comment), right after a backslash in a string.
"""

from __future__ import annotations

import json

from . import Write, refused

_HINT = "make the tag a whole value or put it inside a string"


def string(value: str) -> str:
    """A JSON string, quotes included; non-ASCII kept as it is."""
    return json.dumps(value, ensure_ascii=False)


def in_string(value: str) -> str:
    """The inside of a JSON string."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


def scan(pieces: list[str], wheres: list[str]) -> list[Write]:
    """How each tag of a JSON file is written, in order; ConfigError for a tag where nothing can be."""
    state = "out"
    writes: list[Write] = []
    for piece, where in zip(pieces, wheres, strict=False):
        pending, i = False, 0
        while i < len(piece):
            c, two = piece[i], piece[i : i + 2]
            if state == "string":
                if c == "\\":
                    pending = i + 1 == len(piece)
                    i += 1
                elif c == '"':
                    state = "out"
            elif state == "line":
                state = "out" if c == "\n" else state
            elif state == "block":
                if two == "*/":
                    state, i = "out", i + 1
            elif c == '"':
                state = "string"
            elif two in ("//", "/*"):
                state, i = ("line" if two == "//" else "block"), i + 1
            i += 1
        if pending:
            raise refused(where, "right after a backslash", "remove the backslash")
        if state in ("line", "block"):
            raise refused(where, "in a comment", _HINT)
        writes.append(in_string if state == "string" else string)
    return writes
