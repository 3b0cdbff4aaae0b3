"""Tags in an INI file (``.ini``, ``.cfg``), as Python's configparser and npm's ``ini`` package read it. Pure.

Neither reader has an escape both share: configparser takes a value as it is (then ``ConfigParser()`` reads
``%`` as interpolation), npm's ``ini`` reads ``;`` and ``#`` as the start of a comment anywhere, ``\\`` as an
escape, and a value between matching quotes as JSON. So a value is written as it is when it reads back the
same through ``configparser.ConfigParser``, ``configparser.RawConfigParser`` and npm's ``ini``, and refused
otherwise: a line break, ``;``, ``#``, ``\\`` or ``%`` anywhere, and, at the start or end of the value, a
blank (both readers strip it) or a quote.

A tag stands in the value of a ``key = value`` line (after its ``=``). Refused places: a comment line, a
section header, a line's name (before its ``=``). npm's ``ini`` reads ``true``, ``false`` and ``null`` as
those JSON values, whatever the quoting.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..escaping import Unwritable
from . import Write, refused

_UNSAFE = re.compile("[\r\n\u2028\u2029;#\\\\%]")
_HINT = "write the value where configparser and npm's ini read it the same, or use {{ ... | raw }} for your reader"


def edge_blank(ch: str) -> bool:
    """What Python's str.strip() or JavaScript's trim() removes from either end of a value."""
    return ch.isspace() or ch == "\ufeff"


def value_writer(starts: bool, ends: bool) -> Write:
    """The writer for a value that starts (``starts``) and ends (``ends``) the line's value, or stands inside it."""

    def write(value: str) -> str:
        if _UNSAFE.search(value):
            raise Unwritable("a line break, ;, #, \\ or %, which configparser or npm's ini reads specially", _HINT)
        for edge, at in ((starts, value[:1]), (ends, value[-1:])):
            if edge and at and (edge_blank(at) or at in "\"'"):
                raise Unwritable("a blank or a quote at the start or end of the value, which configparser or npm's "
                                 "ini strips", _HINT)  # fmt: skip
        return value

    return write


def value(value: str) -> str:
    """A whole ``key = value`` value (the ``| ini`` escaper)."""
    return value_writer(True, True)(value)


def lines(pieces: list[str], wheres: list[str], place: Callable[[str, bool, bool, str], Write]) -> list[Write]:
    """For each tag: the text of its line before it, whether it starts and ends the line's value; ``place`` makes
    the writer (or raises). Shared by the INI-like formats."""
    writes: list[Write] = []
    line = ""
    for i, where in enumerate(wheres):
        piece, after = pieces[i], pieces[i + 1]
        line = (line + piece).rpartition("\n")[2]
        last = i + 1 == len(wheres)
        rest = after.partition("\n")
        ends = rest[0].strip(" \t\r") == "" and (bool(rest[1]) or last)
        _key, equals, before = line.partition("=")
        starts = bool(equals) and before.strip(" \t") == ""
        writes.append(place(where, starts, ends, line))
        line += "x"  # the value written there is text of the line
    return writes


def key_value_line(where: str, line: str) -> None:
    """Refuse a tag that does not stand in the value of a ``key = value`` line."""
    head = line.lstrip(" \t")
    if head.startswith((";", "#")):
        raise refused(where, "in a comment", _HINT)
    if head.startswith("["):
        raise refused(where, "in a section header", "put it in a key = value line")
    if "=" not in line:
        raise refused(where, "before the = of a key = value line", "put it after the =: key = {{ ... }}")


def scan(pieces: list[str], wheres: list[str]) -> list[Write]:
    """How each tag of an INI file is written, in order; ConfigError for a tag where nothing can be."""

    def place(where: str, starts: bool, ends: bool, line: str) -> Write:
        key_value_line(where, line)
        return value_writer(starts, ends)

    return lines(pieces, wheres, place)
