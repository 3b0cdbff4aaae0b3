"""Process effects: replacing envinject with the command."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NoReturn

from .errors import EXIT_CANNOT_RUN, EXIT_FAILURE, EXIT_NOT_FOUND, CommandError


def exec_command(argv: Sequence[str], env: Mapping[str, str], search_path: str | None = None) -> NoReturn:
    """Replace this process with ``argv``, searched on the new environment's PATH, or on ``search_path``
    when the new environment has none (``--pristine``).

    Raises CommandError with 127 when the command is not found and 126 when it cannot be run,
    as GNU env does. Nothing of envinject stays resident afterwards.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    program = argv[0]
    if "PATH" not in env and search_path and "/" not in program:
        program = shutil.which(program, path=search_path) or program
    try:
        os.execvpe(program, list(argv), dict(env))
    except FileNotFoundError:
        raise CommandError(
            f"{argv[0]}: command not found", hint="check the name and PATH", exit_code=EXIT_NOT_FOUND
        ) from None
    except OSError as e:
        raise CommandError(
            f"{argv[0]}: cannot run: {e.strerror}",
            hint="check that it is an executable file",
            exit_code=EXIT_CANNOT_RUN,
        ) from None


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
