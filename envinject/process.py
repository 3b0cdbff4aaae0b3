"""Process effects: replacing envinject with the command."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn

from .errors import EXIT_CANNOT_RUN, EXIT_NOT_FOUND, CommandError


def exec_command(argv: Sequence[str], env: Mapping[str, str]) -> NoReturn:
    """Replace this process with ``argv`` (searched on the new environment's PATH).

    Raises CommandError with 127 when the command is not found and 126 when it cannot be run,
    as GNU env does. Nothing of envinject stays resident afterwards.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(argv[0], list(argv), dict(env))
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
