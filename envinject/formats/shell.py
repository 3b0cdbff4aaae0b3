"""POSIX shell ``export`` lines, for ``eval "$(envinject export ...)"`` or ``.``. Pure.

Single quotes are the one shell quoting with no special character inside, so every value is written
between them and each ``'`` becomes ``'\\''`` (close, an escaped quote, reopen). Bash and dash read that
back byte for byte, newlines included. A shell variable cannot hold NUL; values never contain one.
"""

from __future__ import annotations

from collections.abc import Mapping


def quote(value: str) -> str:
    """``value`` as one single-quoted shell word."""
    return "'" + value.replace("'", "'\\''") + "'"


def render(env: Mapping[str, str]) -> str:
    """One ``export NAME='value'`` line per variable, sorted by name."""
    return "".join(f"export {name}={quote(env[name])}\n" for name in sorted(env))
