"""Where each tag of a template stands in its file, and how a value is written there. Pure.

A value is escaped for the reader of the file, and the reader reads it according to where it stands: inside a
shell's double quotes, a YAML plain scalar, a TOML literal string, a comment. One module per file format
that has quoting; each has ``scan(pieces, wheres)``: ``pieces`` is the literal text around the tags (one more
piece than tags), ``wheres`` each tag's ``FILE:LINE``. It follows the format's lexical rules through the text
and returns, for each tag, the function that writes a value there. That function returns the text to put in
place of the tag, or raises :class:`~envinject.rules.escaping.Unwritable` when no text gives the reader the
value at that place. A tag where no value can be written at all (a comment, a here-document, a command
substitution) is a ConfigError naming its line, raised before anything is fetched.

A scanner that meets something it does not follow stops trusting what comes after it: every later tag is
refused rather than escaped for a guess.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Protocol

from ...errors import ConfigError

#: Writes one value where a tag stands; raises Unwritable.
Write = Callable[[str], str]


class Scanner(Protocol):
    """A lexer that reads a file's text piece by piece and knows, at each tag, where it stands."""

    def feed(self, text: str) -> None: ...

    def place(self, where: str, after: str, *, last: bool) -> Write: ...


def scan_pieces(scanner: Scanner, pieces: Sequence[str], wheres: Sequence[str]) -> list[Write]:
    """Feed ``scanner`` the text before each tag and ask where the tag stands (``after``: the text that follows
    it, up to the next tag), in order."""
    writes: list[Write] = []
    for i, where in enumerate(wheres):
        scanner.feed(pieces[i])
        writes.append(scanner.place(where, pieces[i + 1], last=i + 1 == len(wheres)))
    return writes


#: The file formats whose tags are written according to where they stand, and the module that knows how.
SCANNED = {
    "shell": "shell",
    "dotenv": "dotenv",
    "yaml": "yamlfmt",
    "json": "jsonfmt",
    "toml": "tomlfmt",
    "ini": "ini",
    "npmrc": "npmrc",
    "properties": "properties",
}


def scan(fmt: str, pieces: Sequence[str], wheres: Sequence[str]) -> list[Write] | None:
    """For a template of format ``fmt``, how each tag's value is written where it stands; None for a format
    whose tags need no place (``raw``, ``url``). ConfigError naming the first tag where nothing can be written."""
    name = SCANNED.get(fmt)
    if name is None:
        return None
    module = importlib.import_module(f"{__name__}.{name}")
    writes: list[Write] = module.scan(pieces, wheres)
    return writes


def refused(where: str, place: str, hint: str) -> ConfigError:
    """The error for a tag at a place where no value can be written: ``FILE:LINE: a tag cannot stand PLACE``."""
    return ConfigError(f"{where}: a tag cannot stand {place}", hint=hint)
