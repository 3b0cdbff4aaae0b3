"""Writing files that hold secrets, and asking git whether one would be committed.

The only module of ``export`` that touches the file system; the formats stay pure.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from ..errors import EnvinjectError


class FileWriteError(EnvinjectError):
    """A file that could not be, or may not be, written."""


#: Signals that end envinject while it writes: the temp file is removed first. SIGKILL cannot be caught.
_CLEANUP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
#: What an existing path is, when it is not a regular file, for the message that refuses it.
_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
)


def check_target(path: str | os.PathLike[str], *, force: bool) -> None:
    """Refuse ``path`` if it exists and is not a regular file (even with ``force``: a device, a FIFO, a
    directory, a symlink such as ``/proc/self/fd/1``), or exists at all without ``force``, or if its folder
    does not exist."""
    target = Path(path)
    try:
        try:
            mode = os.lstat(target).st_mode
        except FileNotFoundError:
            os.stat(target.parent)  # the folder must be there: the same error now as when writing
            return
    except OSError as e:
        raise FileWriteError(f"cannot write {target}: {_reason(e)}") from None
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        raise FileWriteError(
            f"{target} is {kind}, not a regular file", hint="name a regular file, or write -o - for stdout"
        )
    if not force:
        raise FileWriteError(f"{target} already exists", hint="--force to overwrite")


def write_private(path: str | os.PathLike[str], data: str, *, force: bool) -> None:
    """Write ``data`` (UTF-8) to ``path``, readable and writable by the owner only (0600), atomically.

    The text goes to a temp file in the same folder, created 0600 before its first byte, then renamed
    over ``path``; a reader sees the old file or the whole new one, never a part. An existing ``path`` is
    refused unless ``force``, and anything there that is not a regular file always is (see
    :func:`check_target`). On any failure, and on SIGTERM, SIGINT or SIGHUP, the temp file is removed and
    ``path`` is left as it was. Only SIGKILL can leave the temp file, named ``NAME.<hex>.tmp`` so that an
    ignore pattern ``NAME*`` covers it.
    """
    target = Path(path)
    check_target(target, force=force)
    try:
        payload = data.encode("utf-8")
    except UnicodeEncodeError:
        # The exception's text would quote the offending character, a piece of a secret.
        raise FileWriteError(f"cannot write {target}: the text is not valid Unicode") from None

    folder = target.parent
    tmp = _temp_name(target)
    with _removed_on_signal(tmp):
        try:
            # O_EXCL: never reuse (or follow a symlink planted at) a name someone else created.
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except OSError as e:
            raise FileWriteError(f"cannot write {target}: {_reason(e)}") from None
        try:
            try:
                # open()'s mode is filtered by the umask or a default ACL; fchmod sets exactly 0600.
                os.fchmod(fd, 0o600)
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            check_target(target, force=force)  # again: something may have appeared there meanwhile
            os.replace(tmp, target)
        except BaseException as e:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(e, OSError):
                raise FileWriteError(f"cannot write {target}: {_reason(e)}") from None
            raise
    _fsync_folder(folder)


def _temp_name(target: Path) -> bytes:
    """``NAME.<hex>.tmp`` beside ``target``, so that ``NAME*`` matches a leftover; the name is cut short when
    it would be longer than the file system allows (a NAME of 250 bytes), never made longer than that."""
    name = os.fsencode(target.name)
    suffix = f".{secrets.token_hex(4)}.tmp".encode()
    try:
        longest = os.pathconf(target.parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        longest = 255
    return os.path.join(os.fsencode(target.parent), name[: max(longest - len(suffix), 1)] + suffix)


@contextlib.contextmanager
def _removed_on_signal(tmp: bytes) -> Iterator[None]:
    """While the block runs, SIGTERM, SIGINT and SIGHUP first remove ``tmp``, then end the process as the
    signal would have (status 128+N). A signal that was ignored stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; the failure path below still removes the file
        return

    def remove_then_die(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    previous = {}
    for signum in _CLEANUP_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, remove_then_die)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _reason(e: OSError) -> str:
    # strerror is the OS's words ("Permission denied"); an OSError raised by hand may have none.
    return e.strerror or type(e).__name__


def _fsync_folder(folder: Path) -> None:
    # The rename is durable only once the folder is synced. Best effort: the file is already in place.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def git_unignored(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` is inside a git work tree and git does not ignore it, so it could be committed.

    False outside a work tree, for an ignored path, and when git is missing or fails.
    """
    target = Path(path).absolute()
    folder = target.parent
    try:
        inside = _git(folder, "rev-parse", "--is-inside-work-tree")
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return False
        # check-ignore: 0 ignored, 1 not ignored (tracked files count as not ignored), 128 error.
        return _git(folder, "check-ignore", "-q", "--", target.name).returncode == 1
    except (OSError, subprocess.SubprocessError):
        # No git, a folder that does not exist, a hung git: nothing to warn about that we can know.
        return False


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=folder, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=10, check=False
    )
