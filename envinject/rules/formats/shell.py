"""POSIX shell ``export`` lines, for ``eval "$(envinject export ...)"`` or ``.``. Pure.

Single quotes are the one shell quoting with no special character inside, so every value is written
between them and each ``'`` becomes ``'\\''`` (close, an escaped quote, reopen). Bash and dash read that
back byte for byte, newlines included. A shell variable cannot hold NUL; values never contain one.

Some names belong to the shell: bash keeps ``UID`` or ``SHELLOPTS`` read-only (the assignment fails on
stderr and the old value stays), and sets ``RANDOM``, ``LINENO`` or ``_`` itself on every read or command.
No quoting gets a value into those, so they are refused, naming the variable. The list is what bash 5 and
dash do: the tests assign every variable those shells know and read it back.
"""

from __future__ import annotations

from collections.abc import Mapping

from .docker import UnrepresentableError

#: Variables that bash (interactive or not) or dash keeps read-only or sets itself, so that an ``export`` of
#: them does not give the shell the value; the integer ones (OPTIND, MAILCHECK, SECONDS) drop any other text, and
#: PIPESTATUS and _ are overwritten by the next command.
SHELL_OWNED = frozenset(
    {
        "_", "BASH_ARGC", "BASH_ARGV", "BASH_COMMAND", "BASH_LINENO", "BASH_SOURCE", "BASH_SUBSHELL",
        "BASH_VERSINFO", "BASHOPTS", "BASHPID", "DIRSTACK", "EPOCHREALTIME", "EPOCHSECONDS", "EUID", "FUNCNAME",
        "GROUPS", "HISTCMD", "LINENO", "MAILCHECK", "OPTIND", "PIPESTATUS", "PPID", "RANDOM", "SECONDS",
        "SHELLOPTS", "SRANDOM", "UID",
    }
)  # fmt: skip


def quote(value: str) -> str:
    """``value`` as one single-quoted shell word."""
    return "'" + value.replace("'", "'\\''") + "'"


def render(env: Mapping[str, str]) -> str:
    """One ``export NAME='value'`` line per variable, sorted by name; UnrepresentableError for a name the shell
    owns (:data:`SHELL_OWNED`)."""
    owned = sorted(SHELL_OWNED.intersection(env))
    if owned:
        raise UnrepresentableError(
            f"{owned[0]} is a variable that bash or dash keeps read-only or sets itself, so an export line "
            "cannot give it a value",
            hint="name it otherwise (--prefix, or VAR=NAME#KEY), or use another format (dotenv, json)",
        )
    return "".join(f"export {name}={quote(env[name])}\n" for name in sorted(env))
