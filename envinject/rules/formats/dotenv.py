"""The ``.env`` format, for python-dotenv and for a POSIX shell's ``set -a; . ./.env``. Pure.

Users read a ``.env`` both ways, so every value is written in the one quoting that python-dotenv
(``dotenv_values``, ``load_dotenv``, ``envinject --env-file``) and bash or dash read back to the same text, and
that runs nothing in either:

* double quotes, escaping only ``\\`` and ``"`` (both readers take ``\\\\`` and ``\\"`` alike), when the value
  has no ``$`` and no backquote: inside double quotes a shell expands those, and python-dotenv has no escape
  for them (``\\$`` reads as a backslash and a dollar). A line feed is written as it is: both read it
  inside the quotes; python-dotenv's ``\\n`` would be a backslash and an n to a shell.
* else single quotes, when the value has no ``'``, no ``\\\\`` and does not end with ``\\``: a shell reads
  everything between single quotes as it is; python-dotenv reads ``\\\\`` and ``\\'`` as escapes there.
* else nothing can carry it, and it is refused, naming the variable: a value with both a ``'`` or ``\\\\``
  and a ``$`` or backquote, or with a carriage return (a shell keeps it; python-dotenv, reading a file with
  Python's universal newlines, gets a line feed, and no escape exists in single quotes or for a shell).

``${...}``: python-dotenv's default interpolation (``load_dotenv()``, ``dotenv_values()`` without
``interpolate=False``) runs after unquoting, on the decoded value, whatever the quotes; its double-quote
escapes are only ``\\\\ \\' \\" \\a \\b \\f \\n \\r \\t \\v``, so there is no escape for ``$`` (``\\${X}``
reads as a backslash followed by X's value), and the expansion is a single pass, so a value cannot hide a
reference behind another variable either. No encoding therefore reads back the same both ways for a value
containing ``${NAME}`` or ``${NAME:-default}``. Such a value is written single-quoted (the shell keeps it, and
so does ``interpolate=False``), and :func:`interpolation_hazards` names the variables the caller warns about.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..escaping import Unwritable
from .docker import UnrepresentableError

# python-dotenv's own pattern (dotenv/variables.py): ${NAME} or ${NAME:-default}. A `$` alone, `$NAME`,
# an unclosed `${` or `${NAME:x}` is left alone by it, so it is not a hazard.
_REFERENCE = re.compile(r"\$\{[^}:]*(?::-[^}]*)?\}")
#: What a shell expands inside double quotes, and python-dotenv cannot escape.
_EXPANDS = re.compile(r"[$`]")
#: What python-dotenv reads as an escape inside single quotes (a trailing backslash would escape the quote).
_SINGLE_ESCAPES = re.compile(r"'|\\\\|\\\Z")
_DOUBLE = str.maketrans({"\\": "\\\\", '"': '\\"'})

HINT = "use --format shell to source it in a shell, or --format json"
#: The warning for a value :func:`interpolation_hazards` names, after the variable's name or the tag's line.
EXPANDED = (
    "contains ${...}: read it with dotenv_values(interpolate=False) or envinject --env-file; load_dotenv() would "
    "expand it"
)


def quote(value: str) -> str:
    """``value`` as one dotenv value that python-dotenv and a POSIX shell both read back exactly; Unwritable
    when no quoting gives both the value."""
    if "\r" in value:
        raise Unwritable(
            "a carriage return, which no .env quoting gives both python-dotenv (which reads it as a line feed) "
            "and a shell",
            HINT,
        )
    if not _EXPANDS.search(value):
        return '"' + value.translate(_DOUBLE) + '"'
    if not _SINGLE_ESCAPES.search(value):
        return "'" + value + "'"
    raise Unwritable(
        "both a $ or backquote and a ', a double backslash or a final backslash, which no .env quoting gives "
        "both python-dotenv and a shell (set -a; . ./.env) unchanged",
        HINT,
    )


def render(env: Mapping[str, str]) -> str:
    """One ``NAME="value"`` (or ``NAME='value'``) line per variable, sorted by name; UnrepresentableError naming
    the first variable whose value no quoting can carry."""
    lines = []
    for name in sorted(env):
        try:
            lines.append(f"{name}={quote(env[name])}\n")
        except Unwritable as e:
            raise UnrepresentableError(f"{name} contains {e.reason}", hint=e.hint) from None
    return "".join(lines)


def interpolation_hazards(env: Mapping[str, str]) -> list[str]:
    """The keys, sorted, whose value python-dotenv's default interpolation would rewrite (variable names for
    export, tag locations for a rendered file)."""
    return [name for name in sorted(env) if _REFERENCE.search(env[name])]
