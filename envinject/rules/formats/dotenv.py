"""The ``.env`` format, as python-dotenv reads it. Pure.

Every value is written double-quoted, escaping only ``\\``, ``"``, line feed and carriage return, so it
reads back exactly through ``dotenv_values(..., interpolate=False)``, from a stream or from a file. Double
quotes rather than single: a raw carriage return inside quotes does not survive ``open()``'s universal
newlines (``'a<CR>b'`` reads back as ``a<LF>b``), and only double quotes have a ``\\r`` escape.

``${...}``: python-dotenv's default interpolation (``load_dotenv()``, ``dotenv_values()`` without
``interpolate=False``) runs after unquoting, on the decoded value, whatever the quotes; its double-quote
escapes are only ``\\\\ \\' \\" \\a \\b \\f \\n \\r \\t \\v``, so there is no escape for ``$`` (``\\${X}``
reads as a backslash followed by X's value), and the expansion is a single pass, so a value cannot hide a
reference behind another variable either. No encoding therefore reads back the same both ways for a value
containing ``${NAME}`` or ``${NAME:-default}``. The values are written as they are (exact with
``interpolate=False``), and :func:`interpolation_hazards` names the variables the caller should warn about.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# python-dotenv's own pattern (dotenv/variables.py): ${NAME} or ${NAME:-default}. A `$` alone, `$NAME`,
# an unclosed `${` or `${NAME:x}` is left alone by it, so it is not a hazard.
_REFERENCE = re.compile(r"\$\{[^}:]*(?::-[^}]*)?\}")

_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def quote(value: str) -> str:
    """``value`` as a double-quoted python-dotenv value."""
    return '"' + value.translate(_ESCAPES) + '"'


def render(env: Mapping[str, str]) -> str:
    """One ``NAME="value"`` line per variable, sorted by name."""
    return "".join(f"{name}={quote(env[name])}\n" for name in sorted(env))


def interpolation_hazards(env: Mapping[str, str]) -> list[str]:
    """The names, sorted, whose value python-dotenv's default interpolation would rewrite."""
    return [name for name in sorted(env) if _REFERENCE.search(env[name])]
