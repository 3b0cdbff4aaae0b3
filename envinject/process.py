"""Process effects: replacing envinject with the command."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NoReturn

from .errors import EXIT_CANNOT_RUN, EXIT_FAILURE, EXIT_NOT_FOUND, CommandError


def exec_command(argv: Sequence[str], env: Mapping[str, str], search_path: str | None = None) -> NoReturn:
    """Replace this process with ``argv``, found by :func:`find_command`.

    Raises CommandError with 127 when the command is not found and 126 when it cannot be run,
    as GNU env does. Nothing of envinject stays resident afterwards.
    """
    program = find_command(argv[0], env, search_path)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(program, list(argv), dict(env))
    except OSError as e:
        raise command_error(argv[0], e) from None


def find_command(program: str, env: Mapping[str, str], search_path: str | None = None) -> str:
    """The file exec runs for ``program``, as execvp finds it: as written when it holds a ``/``, else the first
    executable file in the new environment's PATH, or in ``search_path`` when it has none (``--pristine``).

    Raises CommandError: 127 when there is no such file, 126 when one exists but none can be run.
    """
    if "/" in program:
        candidates = [program]
    else:
        path = env.get("PATH", search_path or os.defpath)
        candidates = [os.path.join(folder or ".", program) for folder in path.split(os.pathsep)]
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    if any(os.path.exists(c) for c in candidates):
        raise command_error(program, PermissionError(errno.EACCES, os.strerror(errno.EACCES)))
    raise command_error(program, FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT)))


def command_error(program: str, e: OSError) -> CommandError:
    """Why a command could not start, with GNU env's status: 127 not found, 126 found but not runnable."""
    if isinstance(e, FileNotFoundError):
        return CommandError(f"{program}: command not found", hint="check the name and PATH", exit_code=EXIT_NOT_FOUND)
    return CommandError(
        f"{program}: cannot run: {e.strerror}", hint="check that it is an executable file", exit_code=EXIT_CANNOT_RUN
    )


@contextlib.contextmanager
def deadline(seconds: float, message: Callable[[], str]) -> Iterator[None]:
    """End the process with 125 and ``message()`` if the block takes longer than ``seconds``.

    botocore's timeouts bound each request, not a fetch with retries and backoff; this bounds the whole.
    Nothing has been exec'd inside the block, so ending the process starts nothing.
    """

    def expire() -> None:
        sys.stderr.write(f"envinject: {message()}\n")
        sys.stderr.flush()
        os._exit(EXIT_FAILURE)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
