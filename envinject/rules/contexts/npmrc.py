"""Tags in an ``.npmrc``, as npm reads it: its ``ini`` package, then ``@npmcli/config``. Pure.

A tag is the whole value of a ``key=value`` line, and is written as a JSON string (non-ASCII, U+2028 and U+2029
as ``\\u`` escapes, since the ``ini`` line pattern stops at them): ``ini`` reads a value between double quotes
with ``JSON.parse``, so no ``;``, ``#``, quote or line feed in the value can end it or start a new line. Then
npm replaces ``${NAME}`` with the environment variable NAME in every value (``env-replace.js``), unless the
``$`` follows an odd number of backslashes: each ``${...}`` of the value is written behind one more backslash
than npm takes away, so it stays text. npm trims a value, so a blank at either end is refused; it reads
``true``, ``false``, ``null`` and ``undefined`` as those values, whatever the quoting.

Refused places: a comment line, a section header, a line's name, a part of a value.
"""

from __future__ import annotations

import json
import re

from ..escaping import Unwritable
from . import Write, refused
from .ini import edge_blank, key_value_line, lines

#: npm's own pattern (@npmcli/config lib/env-replace.js): backslashes, then ${NAME} or ${NAME?}.
_ENV_REFERENCE = re.compile(r"(?<!\\)(\\*)(\$\{[^${}?]+\??\})")


def value(value: str) -> str:
    """A whole ``.npmrc`` value: a JSON string whose ``${...}`` npm leaves alone."""
    if value and (edge_blank(value[0]) or edge_blank(value[-1])):
        raise Unwritable("a blank at the start or end, which npm trims", "remove it from the secret")
    kept = _ENV_REFERENCE.sub(lambda m: "\\" * (2 * len(m.group(1)) + 1) + m.group(2), value)
    return json.dumps(kept, ensure_ascii=True)


def scan(pieces: list[str], wheres: list[str]) -> list[Write]:
    """How each tag of an ``.npmrc`` is written, in order; ConfigError for a tag where nothing can be."""

    def place(where: str, starts: bool, ends: bool, line: str) -> Write:
        key_value_line(where, line)
        if not (starts and ends):
            raise refused(where, "in a part of an .npmrc value", "make the tag the whole value: key={{ ... }}")
        return value

    return lines(pieces, wheres, place)
