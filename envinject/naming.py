"""Turn JSON key paths into environment variable names. Pure: the one naming pipeline for every command."""

from __future__ import annotations

import re
from collections.abc import Sequence

_OUTSIDE = re.compile(r"[^A-Za-z0-9_]")
_VALID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def env_name(path: Sequence[str], *, prefix: str = "", keep_case: bool = False) -> str:
    """Name for a key path: each key with ``[^A-Za-z0-9_]`` replaced by ``_``, joined by ``_``,
    uppercased unless ``keep_case``, with ``prefix`` in front (as written).

    >>> env_name(["db", "api-key"], prefix="APP_")
    'APP_DB_API_KEY'
    """
    name = "_".join(_OUTSIDE.sub("_", part) for part in path)
    return prefix + (name if keep_case else name.upper())


def is_valid_name(name: str) -> bool:
    """True for a name every POSIX shell accepts: a letter or ``_``, then letters, digits or ``_``."""
    return _VALID.fullmatch(name) is not None
