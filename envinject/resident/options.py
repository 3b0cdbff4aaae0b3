"""How the resident modes run the command: one set of options, shared by the child, the reaper and the loop."""

from __future__ import annotations

import signal

from ..records import record
from ..rules.retry import RESTART, RetryPolicy
from .memory import CoreLimit


@record(frozen=True)
class ResidentOptions:
    """How the child is stopped, reaped, polled for and restarted."""

    #: Sent to the child's process group to stop it (a restart, the end of the run): ``--stop-signal``.
    stop_signal: int = signal.SIGTERM
    #: Seconds to wait after a stop signal before SIGKILL to the whole process group: ``--kill-timeout``.
    kill_timeout: float = 10.0
    #: Start the child again when it exits on its own, never after a stop signal: ``--restart-on-exit``.
    restart_on_exit: bool = False
    #: Reap every child, so orphaned grandchildren leave no zombie. None: only when envinject is PID 1,
    #: since ``waitpid(-1)`` also takes the status of any other subprocess envinject runs (a
    #: ``credential_process``, say). True (``--init``): always, and become a child subreaper (Linux) so that
    #: orphans are re-parented to envinject even when it is not PID 1.
    reap_orphans: bool | None = None
    #: ``--watch``: how long to wait between polls, and after polls that failed. None: no polls.
    poll: RetryPolicy | None = None
    #: A child that exits sooner than ``restart.base`` seconds after its start is restarted only that long
    #: after it; a command that cannot be started again is retried with these waits.
    restart: RetryPolicy = RESTART
    #: The core limit the command starts with: the one envinject was given, since its own is zero while it holds
    #: values (:mod:`.memory`). None: the command inherits envinject's.
    core_limit: CoreLimit | None = None
