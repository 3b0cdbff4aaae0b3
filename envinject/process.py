"""Process effects: replacing envinject with the command."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn

from .errors import EXIT_CANNOT_RUN, EXIT_NOT_FOUND, CommandError


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
