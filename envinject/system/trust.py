"""Whether a file envinject did not get from the user may be obeyed: git's ``safe.directory`` reasoning.

A config file found on the way up from the working folder, and every file a config file names (env files,
templates), must be the user's or root's and writable by no one else. A symbolic link on the way is judged as
well as its target: whoever owns the link, or can write to the folder it sits in, chooses the file it names.
"""

from __future__ import annotations

import errno
import os
import stat

from ..errors import quote

#: Linux's limit on symbolic links followed in one path (MAXSYMLINKS).
_MAX_LINKS = 40


class Untrusted(Exception):
    """A file, or a symbolic link on the way to it, that someone other than the user or root could have written."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def untrusted(st: os.stat_result) -> str | None:
    """Why a file must not be obeyed, or None: it is owned by someone other than the user or root, or others can
    write to it, or a group other than the owner's own private group can."""
    if st.st_uid not in (os.geteuid(), 0):
        return f"it is owned by uid {st.st_uid}, not by you or root"
    if st.st_mode & stat.S_IWOTH:
        return "others can write to it"
    if st.st_mode & stat.S_IWGRP and not _private_group(st.st_uid, st.st_gid):
        return f"group {st.st_gid} can write to it"
    return None


def untrusted_folder(st: os.stat_result) -> str | None:
    """Why a folder must not be trusted with what sits in it, or None: as :func:`untrusted`, except that in a
    sticky folder (``/tmp``) only an entry's owner can replace it, so others' write access does not matter."""
    if st.st_uid not in (os.geteuid(), 0):
        return f"it is owned by uid {st.st_uid}, not by you or root"
    return None if st.st_mode & stat.S_ISVTX else untrusted(st)


def read_trusted(path: str | os.PathLike[str]) -> bytes:
    """The content of the regular file at ``path`` when it may be obeyed. Every symbolic link met on the way is
    judged (its owner, and the folder it sits in, by :func:`untrusted_folder`), then the file that is opened (by
    :func:`untrusted`, on the open descriptor). Raises :class:`Untrusted`, or OSError as ``open`` would."""
    real = _resolve(os.fspath(path))
    # O_NOFOLLOW: the path was resolved, so a link here now was put there since; O_NONBLOCK: a FIFO must not hang.
    fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Untrusted("it is not a regular file")
        reason = untrusted(st)
        if reason is not None:
            raise Untrusted(reason)
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _resolve(path: str) -> str:
    """``path`` with every symbolic link resolved, as the kernel resolves it (``..`` after a link goes up from
    the link's target), each link judged on the way. A missing part ends the walk: open reports it."""
    pending = list(reversed(os.path.join(os.getcwd(), path).split("/")))
    done = "/"
    links = 0
    while pending:
        name = pending.pop()
        if name in ("", "."):
            continue
        if name == "..":
            done = os.path.dirname(done)
            continue
        here = os.path.join(done, name)
        try:
            st = os.lstat(here)
        except OSError:
            return os.path.join(here, *reversed(pending))
        if not stat.S_ISLNK(st.st_mode):
            done = here
            continue
        links += 1
        if links > _MAX_LINKS:
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
        reason = _untrusted_link(st, done)
        if reason is not None:
            raise Untrusted(f"the symbolic link {quote(here)} {reason}")
        target = os.readlink(here)
        if target.startswith("/"):
            done = "/"
        pending.extend(reversed(target.split("/")))
    return done


def _untrusted_link(st: os.stat_result, folder: str) -> str | None:
    """Why a symbolic link (``st`` from lstat) in ``folder`` must not be followed, or None. A link's own mode
    means nothing; its owner and whoever can replace it in its folder choose where it points."""
    if st.st_uid not in (os.geteuid(), 0):
        return f"is owned by uid {st.st_uid}, not by you or root"
    reason = untrusted_folder(os.stat(folder))
    return None if reason is None else f"is in {quote(folder)}: {reason}"


def _private_group(uid: int, gid: int) -> bool:
    """Whether ``gid`` is ``uid``'s own group with no other member (Debian's user private groups, umask 002)."""
    import grp
    import pwd

    try:
        user, group = pwd.getpwuid(uid), grp.getgrgid(gid)
    except KeyError:
        return False
    return user.pw_gid == gid and group.gr_name == user.pw_name and set(group.gr_mem) <= {user.pw_name}
