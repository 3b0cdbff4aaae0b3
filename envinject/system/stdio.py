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
import select
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
    """Write all of ``text`` to stdout. EPIPE ends the process as SIGPIPE would; any other failure (ENOSPC, EIO)
    is an EnvinjectError, status 125.

    The bytes go to the descriptor directly, in a loop until every byte is taken: Python's text and buffer
    layers can lose the rest of a large write that the pipe took only in part before its reader left, and
    return as if it had all been written (exit 0 with a cut output). A stream with no descriptor behind it
    (a closed stdout's stand-in, a test's capture) is written as a stream."""
    stream = sys.stdout
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is both an OSError and a ValueError
        fd = None
    try:
        if fd is None:
            stream.write(text)
            stream.flush()
            return
        stream.flush()  # what the stream still holds goes first
        _write_all(fd, text.encode(stream.encoding or "utf-8", stream.errors or "strict"))
    except BrokenPipeError:
        die_of_sigpipe()
    except OSError as e:
        raise write_failure(e) or e from None


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is taken: a pipe or a terminal may take part of a write (a signal, a reader
    that left), and a descriptor left non-blocking by whoever started envinject refuses until there is room."""
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [])
            continue
        view = view[written:]


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
