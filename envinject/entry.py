"""The console entry point. The common command line, ``envinject -s REF... -- COMMAND``, runs without importing
typer (about a tenth of a start); every other command line goes to the typer CLI unchanged.

Both paths call the same functions, :func:`~envinject.commands.load_settings` and
:func:`~envinject.commands.run.run`, so a command line means the same on either.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence

_SECRET = ("-s", "--secret")
_SECRET_JOINED = "--secret="


def fast_args(argv: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """``(refs, command)`` when ``argv`` is only ``-s REF``, ``--secret REF`` or ``--secret=REF`` options,
    then ``--`` and a command; None for anything else (another option, ``-sREF``, a value that is empty or
    starts with ``-``, no ``--``, no command, a subcommand, ``--help``, ``--version``)."""
    refs: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            command = list(argv[i + 1 :])
            return (refs, command) if command else None
        if arg in _SECRET and i + 1 < len(argv):
            value, i = argv[i + 1], i + 2
        elif arg.startswith(_SECRET_JOINED):
            value, i = arg[len(_SECRET_JOINED) :], i + 1
        else:
            return None
        if not value or value.startswith("-"):
            return None
        refs.append(value)
    return None


def main() -> None:
    """``envinject``. The cyclic GC stays off until exec (a start makes little cyclic garbage, and collecting
    it costs about 5%); the resident modes turn it back on before they start supervising."""
    gc.disable()
    if sys.argv[1:] == ["--version"]:  # as the CLI prints it, without loading typer (most of its time)
        raise SystemExit(_version())
    parsed = fast_args(sys.argv[1:])
    if parsed is None:
        from .cli import main as typer_main

        typer_main()
        return
    raise SystemExit(_run(*parsed))


def _version() -> int:
    from . import __version__
    from .exits import exit_status
    from .system.stdio import open_closed, write_stdout

    open_closed()
    try:
        write_stdout(f"envinject {__version__}\n")
    except (Exception, KeyboardInterrupt) as e:  # noqa: BLE001 - a closed or full stdout ends it as the CLI would
        return exit_status(e)
    return 0


def _run(refs: list[str], command: list[str]) -> int:
    """What the typer ``run`` command does with these options; a failure ends it as it ends the CLI, through
    :func:`~envinject.exits.exit_status` (the usage errors the CLI also handles cannot happen on this grammar)."""
    from . import commands
    from .commands import run
    from .exits import exit_status
    from .options import RunOptions
    from .system.stdio import open_closed

    open_closed()
    log = commands.Log()
    try:
        settings = commands.load_settings({"secrets": refs or None}, log)
        return run.run(settings, RunOptions(command=command), log)
    except (Exception, KeyboardInterrupt) as e:  # noqa: BLE001 - exit_status names only the type of an unexpected one
        return exit_status(e)
