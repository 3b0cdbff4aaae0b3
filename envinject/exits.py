"""How a failure ends envinject: what it says on stderr and the exit status. The typer-free fast path
(:mod:`envinject.entry`) and the CLI (:mod:`envinject.cli`) both call :func:`exit_status`, so a failure ends a
command line the same way whichever parsed it. No typer here: the fast path must not load it."""

from __future__ import annotations

import sys

from .errors import EXIT_FAILURE, EnvinjectError
from .system.stdio import die_of_sigpipe, write_failure, write_stderr

#: Ctrl-C: 128 + SIGINT, what a shell reports for a command that SIGINT ended.
EXIT_INTERRUPTED = 130


def exit_status(exc: Exception | KeyboardInterrupt) -> int:
    """Report ``exc`` on stderr and return the status to end with: an EnvinjectError is its own line and status;
    a reader that closed stdout ends the process as SIGPIPE would (nothing returns); Ctrl-C is 130; a failure to
    write stdout is one line and 125; anything else is 125 naming only its type, as its message may quote a
    value."""
    if isinstance(exc, EnvinjectError):
        write_stderr(str(exc))
        return exc.exit_code
    if isinstance(exc, BrokenPipeError):
        die_of_sigpipe()
    if isinstance(exc, KeyboardInterrupt):
        sys.stderr.write("\n")  # as click does before its Abort: the shell's prompt then starts after the ^C
        return EXIT_INTERRUPTED
    failed = write_failure(exc)
    write_stderr(str(failed) if failed else f"internal error ({type(exc).__name__}); please report it")
    return EXIT_FAILURE
