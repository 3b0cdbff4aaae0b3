"""Tags in a ``.env`` file, read by python-dotenv and by a shell's ``set -a; . ./.env`` alike. Pure.

What is written where a tag stands (python-dotenv's ``parser.py`` grammar; POSIX shell quoting):

* the whole value (``NAME={{ ... }}``, a comment after it allowed): the export format's quoting
  (:func:`envinject.rules.formats.dotenv.quote`), double or single quotes, or refused;
* inside double quotes: ``\\`` and ``"`` escaped; a ``$``, a backquote or a carriage return is refused
  (a shell expands the first two there and python-dotenv has no escape for them);
* inside single quotes: as it is; a ``'``, a double or final backslash (python-dotenv's escapes there) or a
  carriage return is refused;
* inside an unquoted value (``URL=postgres://app:{{ ... | url }}@db``): only letters, digits and ``_@%+=:,./-``,
  which neither reader treats specially there; anything else is refused.

Refused places: a name, a comment, after a quoted value, after ``=`` and a blank (a shell would run the value
as a command), right after a backslash or a ``$``.
"""

from __future__ import annotations

import re

from ..escaping import Unwritable
from ..formats.dotenv import HINT, quote
from . import Write, refused, scan_pieces

_UNQUOTED_SAFE = re.compile(r"[A-Za-z0-9_@%+=:,./-]*")
_SINGLE_ESCAPES = re.compile(r"'|\\\\|\\\Z")
_DOUBLE = str.maketrans({"\\": "\\\\", '"': '\\"'})
_HINT = "make the tag the whole value: NAME={{ ... }}"


def _no_cr(value: str) -> None:
    if "\r" in value:
        raise Unwritable("a carriage return, which python-dotenv reads as a line feed", HINT)


def in_double_quotes(value: str) -> str:
    _no_cr(value)
    if "$" in value or "`" in value:
        raise Unwritable("a $ or backquote, which a shell expands inside double quotes", _HINT)
    return value.translate(_DOUBLE)


def in_single_quotes(value: str) -> str:
    _no_cr(value)
    if _SINGLE_ESCAPES.search(value):
        raise Unwritable("a ', a double backslash or a final backslash, which python-dotenv reads as an escape "
                         "inside single quotes", _HINT)  # fmt: skip
    return value


def in_unquoted(value: str) -> str:
    if not _UNQUOTED_SAFE.fullmatch(value):
        raise Unwritable(
            "a character other than letters, digits and _@%+=:,./-, which a shell or python-dotenv reads "
            "specially in an unquoted value",
            "make the tag the whole value (NAME={{ ... }}), or encode it ({{ ... | url }})",
        )
    return value


class _Lines:
    """Follows python-dotenv's reading of the literal text between tags."""

    def __init__(self) -> None:
        self.state = "line"
        self.pending = ""

    def feed(self, text: str) -> None:
        self.pending = ""
        i = 0
        while i < len(text):
            c, state = text[i], self.state
            if c in "\r\n" and state not in ("sq", "dq"):
                self.state = "line"
            elif state == "line":
                if c == "#":
                    self.state = "comment"
                elif c not in " \t":
                    self.state = "key"
            elif state == "key":
                if c == "=":
                    self.state = "value"
            elif state in ("value", "blank"):
                if c in " \t":
                    self.state = "blank"
                elif c in "'\"":
                    self.state = "sq" if c == "'" else "dq"
                else:
                    self.state = "unquoted"
                    continue  # read it as part of the unquoted value
            elif state == "unquoted":
                if c in " \t" and text[i + 1 : i + 2] == "#":
                    self.state = "comment"
                elif c in "\\$" and i + 1 == len(text):
                    self.pending = c
            elif state in ("sq", "dq"):
                if c == "\\":
                    if i + 1 == len(text):
                        self.pending = c
                    i += 2
                    continue
                if c == "$" and i + 1 == len(text) and state == "dq":
                    self.pending = c
                if c == ("'" if state == "sq" else '"'):
                    self.state = "after"
            i += 1

    def place(self, where: str, after: str, last: bool) -> Write:
        if self.pending:
            raise refused(where, f"right after a {'backslash' if self.pending == chr(92) else '$'}", _HINT)
        state = self.state
        if state == "value":
            rest = after.lstrip(" \t")
            whole = (rest == "" and last) or rest[:1] in ("\n", "\r") or (rest.startswith("#") and rest != after)
            self.state = "after" if whole else "unquoted"
            return quote if whole else in_unquoted
        if state == "unquoted":
            return in_unquoted
        if state in ("sq", "dq"):
            return in_single_quotes if state == "sq" else in_double_quotes
        place = {
            "line": "where a name goes",
            "key": "in a name",
            "comment": "in a comment",
            "after": "after a quoted value",
            "blank": "after = and a blank, where a shell would run the value as a command",
        }[state]
        raise refused(where, place, _HINT)


def scan(pieces: list[str], wheres: list[str]) -> list[Write]:
    """How each tag of a ``.env`` file is written, in order; ConfigError for a tag where nothing can be."""
    return scan_pieces(_Lines(), pieces, wheres)
