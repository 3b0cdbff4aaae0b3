"""Process effects: replacing envinject with the command."""

from __future__ import annotations

import errno
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn

from ..errors import EXIT_CANNOT_RUN, EXIT_NOT_FOUND, CommandError, SecretFormatError


def exec_command(argv: Sequence[str], env: Mapping[str, str], search_path: str | None = None) -> NoReturn:
    """Replace this process with ``argv``, found by :func:`find_command`.

    Raises CommandError with 127 when the command is not found and 126 when it cannot be run,
    as GNU env does. Nothing of envinject stays resident afterwards.
    """
    program = find_command(argv[0], env, search_path)
    sys.stdout.flush()
    sys.stderr.flush()
    # Python ignores SIGPIPE and SIGXFSZ, and exec keeps an ignored signal ignored: give the command the
    # defaults back (as subprocess does), so that `envinject -- yes | head` ends `yes` as it would without.
    for signum in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(signum, signal.SIG_DFL)
    try:
        os.execve(program, list(argv), dict(env))
    except OSError as e:
        raise command_error(argv[0], e) from None


def check_exec(argv: Sequence[str], env: Mapping[str, str]) -> None:
    """Raise EnvinjectError unless ``argv`` can be exec'd with ``env``, without trying it.

    Every name and value must encode to bytes with no NUL (a lone surrogate cannot), each ``NAME=value``
    must fit Linux's MAX_ARG_STRLEN, and the arguments and environment together must fit ARG_MAX, as
    execve() counts them: each string with its NUL, plus a pointer for each. The messages name variables,
    never values.
    """
    total = 0
    longest = ("", 0)
    for name, value in env.items():
        try:
            size = len(os.fsencode(name)) + len(os.fsencode(value)) + 2
        except UnicodeEncodeError:
            raise SecretFormatError(
                f"the value for {name} cannot be encoded (it holds a lone surrogate, as JSON \\ud800 gives)",
                hint="store text that is valid Unicode",
            ) from None
        if "\0" in name or "\0" in value:
            raise SecretFormatError(f"the value for {name} contains a NUL byte, which no environment can hold")
        total += size
        longest = max(longest, (name, size), key=lambda item: item[1])
    for arg in argv:
        total += len(os.fsencode(arg)) + 1
    total += _POINTER * (len(env) + len(argv) + 2)
    name, size = longest
    if _MAX_ARG_STRLEN and size > _MAX_ARG_STRLEN:
        raise CommandError(
            f"{name} is {size} bytes, more than one variable may hold ({_MAX_ARG_STRLEN} bytes, MAX_ARG_STRLEN)",
            hint="store large values in a file and put its path in the variable",
            exit_code=EXIT_CANNOT_RUN,
        )
    limit = _arg_max()
    if total > limit:
        raise CommandError(
            f"the environment and arguments are {total} bytes, more than a command may get ({limit} bytes, ARG_MAX)",
            hint="inject fewer or smaller values",
            exit_code=EXIT_CANNOT_RUN,
        )


_POINTER = 8
#: Linux: one argument or NAME=value string, its NUL included, may be at most 32 pages.
_MAX_ARG_STRLEN = 32 * os.sysconf("SC_PAGE_SIZE") if sys.platform.startswith("linux") else 0


def _arg_max() -> int:
    try:
        limit = os.sysconf("SC_ARG_MAX")
    except (ValueError, OSError):
        limit = -1
    # Linux's own headroom (the program's name and auxiliary vector take some of it too).
    return (limit if limit > 0 else 131072) - 2048


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
