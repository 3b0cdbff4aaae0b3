"""Reaping: collecting the child's exit status, or every child's when envinject is PID 1 or runs ``--init`` (so
that orphaned grandchildren leave no zombie), and the Linux child subreaper that makes orphans envinject's."""

from __future__ import annotations

import os
import sys

from .child import Child

_PR_SET_CHILD_SUBREAPER = 36  # from <linux/prctl.h>


class Reaper:
    """Collects exit statuses without blocking, from ``install()`` to ``close()``, and gives the child its own.

    ``reap_orphans``: see :attr:`ResidentOptions.reap_orphans`.
    """

    def __init__(self, reap_orphans: bool | None) -> None:
        self._reap_orphans = reap_orphans
        self._all = False
        self._subreaper = False

    def install(self) -> None:
        """Decide whose statuses to collect; with ``reap_orphans`` and not PID 1, become a child subreaper."""
        pid_1 = os.getpid() == 1
        self._all = self._reap_orphans if self._reap_orphans is not None else pid_1
        if self._reap_orphans and not pid_1:
            self._subreaper = _set_subreaper(True)

    def close(self) -> None:
        if self._subreaper:
            _set_subreaper(False)
            self._subreaper = False

    def reap(self, child: Child) -> None:
        """Collect every status there is now; tell ``child`` if its process was one of them."""
        if self._all:
            while True:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    return
                if pid == 0:
                    return
                child.exited(pid, status)
        own = child.pid
        if own is None:
            return
        try:
            found, status = os.waitpid(own, os.WNOHANG)
        except ChildProcessError:
            # Someone else's waitpid(-1) took it; its status is lost. 255 rather than a false success.
            found, status = own, 255 << 8
        if found:
            child.exited(found, status)


def _set_subreaper(on: bool) -> bool:
    """Make orphaned descendants ours to reap (Linux only); True if it worked."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0)
