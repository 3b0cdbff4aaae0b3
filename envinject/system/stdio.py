"""envinject's own standard streams: closed ones, a reader that went away and a full disk.

As coreutils does: a closed stream is written nowhere and the command still runs; a reader that closed the
pipe (``| head``) ends envinject quietly, killed by SIGPIPE (status 141 in a shell); any other failure to
write stdout (a full disk) is one line and status 125. Every entry point calls :func:`open_closed` first.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import signal
import sys
from typing import NoReturn, TextIO, cast

from ..errors import EnvinjectError, one_line

_STREAMS = ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w"))
#: Why writing stdout can fail, apart from EPIPE: full disk or quota, file too large, I/O error, bad descriptor.
_WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EBADF}


def open_closed() -> None:
    """Give each closed standard descriptor (``>&-``) a /dev/null stand-in, and its ``sys`` stream one.

    Without it, the first file or socket envinject opens would take the free number 1 or 2 and receive what
    is meant for stdout or stderr, and ``sys.stdout`` is None. The stand-in is not inheritable, so the
    command still starts with that descriptor closed, as under GNU env.
    """
    for fd, name, mode in _STREAMS:
        try:
            os.fstat(fd)
        except OSError:
            pass
        else:
            if getattr(sys, name) is None:  # closed at start, and since taken by a file Python opened
                setattr(sys, name, _Nowhere())
            continue
        try:
            null = os.open(os.devnull, os.O_RDWR)  # the lowest free number: fd itself, as 0..fd-1 are open
            if null != fd:
                os.dup2(null, fd, inheritable=False)
                os.close(null)
        except OSError:
            stream: TextIO = _Nowhere()
        else:
            stream = cast(TextIO, open(fd, mode, encoding="utf-8", errors="backslashreplace", closefd=False))  # noqa: SIM115
        setattr(sys, name, stream)


def write_stdout(text: str) -> None:
    """Write ``text`` to stdout and flush it. EPIPE ends the process as SIGPIPE would; any other failure
    (ENOSPC, EIO) is an EnvinjectError, status 125."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        die_of_sigpipe()
    except OSError as e:
        raise write_failure(e) or e from None


def write_failure(e: BaseException) -> EnvinjectError | None:
    """The one-line error for a failure to write stdout (a full disk, an I/O error, a closed descriptor), also
    when typer met it printing the help; None when ``e`` is something else."""
    if not isinstance(e, OSError) or e.errno not in _WRITE_ERRORS:
        return None
    _drop_stdout()
    return EnvinjectError(f"cannot write to stdout: {e.strerror}", hint="check the disk or the file it goes to")


def write_stderr(message: str) -> None:
    """One line ``envinject: message`` on stderr, made printable (no escape sequence, no second line).
    A stderr that cannot be written is left alone: there is nowhere to say so."""
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"envinject: {one_line(message)}\n")
        sys.stderr.flush()


def die_of_sigpipe() -> NoReturn:
    """End quietly, killed by SIGPIPE, as ``yes | head`` ends ``yes``. Python ignores SIGPIPE, so restore it."""
    _drop_stdout()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGPIPE)
    raise SystemExit(128 + signal.SIGPIPE)  # not reached: only if SIGPIPE is blocked


def _drop_stdout() -> None:
    # What is still buffered would be flushed, and fail again, at exit; nothing more goes there.
    sys.stdout = _Nowhere()
    with contextlib.suppress(OSError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1, inheritable=False)
        os.close(null)


class _Nowhere(io.StringIO):
    """A text stream that keeps nothing: for a standard stream with no descriptor behind it."""

    def write(self, text: str) -> int:
        return len(text)
