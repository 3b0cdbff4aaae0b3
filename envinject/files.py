"""Writing files that hold secrets, and asking git whether one would be committed.

The only module of ``export`` that touches the file system; the formats stay pure.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
from pathlib import Path

from .errors import EnvinjectError


class FileWriteError(EnvinjectError):
    """A file that could not be, or may not be, written."""


def write_private(path: str | os.PathLike[str], data: str, *, force: bool) -> None:
    """Write ``data`` (UTF-8) to ``path``, readable and writable by the owner only (0600), atomically.

    The text goes to a temp file in the same folder, created 0600 before its first byte, then renamed
    over ``path``; a reader sees the old file or the whole new one, never a part. An existing ``path``
    (a symlink included, which is replaced, never followed) is refused unless ``force``. On any failure
    the temp file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    if not force and os.path.lexists(target):
        raise FileWriteError(f"{target} already exists", hint="--force to overwrite")
    try:
        payload = data.encode("utf-8")
    except UnicodeEncodeError:
        # The exception's text would quote the offending character, a piece of a secret.
        raise FileWriteError(f"cannot write {target}: the text is not valid Unicode") from None

    folder = target.parent
    tmp = folder / f".{target.name}.{secrets.token_hex(8)}.tmp"
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
        os.replace(tmp, target)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise FileWriteError(f"cannot write {target}: {_reason(e)}") from None
        raise
    _fsync_folder(folder)


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
