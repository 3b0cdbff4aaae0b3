"""A resident envinject's memory: it holds the values for as long as the command runs (to mask, to restart, to
rewrite file secrets), so no core dump may hold them and no other process of the same user may read them.

- ``PR_SET_DUMPABLE`` 0 (Linux, ``prctl(2)``): the kernel writes no core dump of envinject (unless
  ``fs.suid_dumpable`` is 2: then one only root can read), and refuses ptrace, ``/proc/PID/mem``,
  ``/proc/PID/environ`` and ``/proc/PID/fd`` to every process without CAP_SYS_PTRACE, the same user's included;
  the files under ``/proc/PID`` become root's. It is envinject's alone: the kernel sets it back to 1 on every
  exec that keeps the credentials, so the command, started with fork and exec, is dumpable as it would be without
  envinject. File secrets are held by a holder process of their own for that reason (see :mod:`.secret_files`).
- ``RLIMIT_CORE`` 0: no core file either, and a core handler (systemd-coredump, apport) is told the limit.
  Only the soft limit: the command is given back the limit envinject started with (:func:`give_core_limit`).

Exec mode needs neither: envinject becomes the command, and holds nothing of its own afterwards.
"""

from __future__ import annotations

import contextlib
import sys

_PR_SET_DUMPABLE = 4  # from <linux/prctl.h>

#: A core limit, (soft, hard), as ``resource.getrlimit`` gives it.
CoreLimit = tuple[int, int]


def keep_private() -> CoreLimit | None:
    """Keep this process's memory out of core dumps and away from other processes; return the core limit it had,
    for the command (None where there is no RLIMIT_CORE)."""
    if sys.platform.startswith("linux"):
        _prctl(_PR_SET_DUMPABLE, 0)
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return None
    given = resource.getrlimit(resource.RLIMIT_CORE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, given[1]))
    return given


def give_core_limit(pid: int, limit: CoreLimit | None) -> None:
    """Give the command (``pid``, just started) the core limit envinject started with (Linux's prlimit); a
    command that changed its user keeps envinject's zero."""
    if limit is None or limit[0] == 0:
        return
    import resource

    if hasattr(resource, "prlimit"):
        with contextlib.suppress(OSError, ValueError):
            resource.prlimit(pid, resource.RLIMIT_CORE, limit)


def _prctl(option: int, value: int) -> int:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return int(libc.prctl(option, value, 0, 0, 0))
