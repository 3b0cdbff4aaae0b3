"""The signals a resident envinject receives: which are passed on to the child and how, and the process-wide
handlers that turn each one into a call on a small thread.

The handlers do nothing in Python; ``signal.set_wakeup_fd`` writes each signal's number to a pipe that the
thread reads, so a signal is handled at once even while the main thread is busy (fetching secrets for a poll,
say), and no lock is ever taken inside a signal handler.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

#: Signals received by envinject that are passed on to the child.
FORWARDED_SIGNALS: tuple[signal.Signals, ...] = (
    signal.SIGINT,
    signal.SIGTERM,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGWINCH,
)
#: These go to the child's whole process group, as a terminal sends Ctrl-C and Ctrl-\ to its foreground
#: group: a ``sh -c`` wrapper does not pass them on, and ``docker stop`` means every process should stop.
#: They are also the stop signals: once one was forwarded, envinject is being asked to end, and neither
#: restarts nor polls again. The others (reload, reopen logs, resize) are requests to the main process only,
#: which relays them to its workers as it sees fit (nginx, gunicorn).
GROUP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGQUIT})

#: Signals whose default action does not end a process: POSIX's "ignore", "stop" and "continue" (the table of
#: signals in <signal.h>), plus SIGIO and SIGINFO, which BSD and macOS ignore by default (signal(3)); Linux's
#: SIGIO (SIGPOLL) terminates.
_HARMLESS_BY_DEFAULT = frozenset(
    getattr(signal, name)
    for name in ("SIGCHLD", "SIGCONT", "SIGURG", "SIGWINCH", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGINFO",
                 *(("SIGIO",) if not sys.platform.startswith("linux") else ()))
    if hasattr(signal, name)
)  # fmt: skip
#: No handler can catch these.
_UNCATCHABLE = frozenset({signal.SIGKILL, signal.SIGSTOP})
#: Raised by the kernel in the thread that faulted (a bad address, a bad instruction, a division by zero, and
#: SIGSYS for a system call seccomp refused with SECCOMP_RET_TRAP). POSIX leaves a process undefined once a handler
#: returns from one (XSH 2.4.3); Python's handler does return, so the fault repeats and the process appears to
#: hang (the signal module's documentation). They keep their default action: sent with kill(), they end
#: envinject as SIGKILL would, and so can only someone who could send SIGKILL.
SYNCHRONOUS_SIGNALS = frozenset(
    getattr(signal, name) for name in ("SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGSYS") if hasattr(signal, name)
)


def ending_signals() -> frozenset[int]:
    """Every signal whose default action ends a process (terminate, or terminate with a core dump) and that a
    handler can catch safely: from ``signal.valid_signals()``, so the real-time signals and each platform's own
    (SIGPWR, SIGSTKFLT, SIGXCPU, SIGVTALRM, SIGPROF...) are in without being listed."""
    excluded = _HARMLESS_BY_DEFAULT | _UNCATCHABLE | SYNCHRONOUS_SIGNALS
    return frozenset(int(s) for s in signal.valid_signals() if s not in excluded)


#: Signals that would end envinject, and that it does not pass on: on one, envinject ends the run as at its end
#: (the stop signal to the command's group, ``kill_timeout``, SIGKILL), lets go of what it holds (file secrets'
#: folder) and exits with 128+N, instead of dying and leaving the command orphaned.
ENDING_SIGNALS = ending_signals() - frozenset(FORWARDED_SIGNALS)


class SignalHandlers:
    """Process-wide handlers for FORWARDED_SIGNALS, ENDING_SIGNALS and SIGCHLD, from ``install()`` to ``close()``.

    After every wakeup, ``on_wakeup`` is called on the handlers' own thread with the forwarded and ending signals
    received (often none: a SIGCHLD, or a wakeup by ``close()``). A signal ignored when envinject started
    (nohup, Python's own SIGPIPE and SIGXFSZ) stays ignored: it would not have ended envinject.
    """

    def __init__(self, on_wakeup: Callable[[list[int]], None]) -> None:
        self._on_wakeup = on_wakeup
        self._thread: threading.Thread | None = None
        self._closing = False
        self._read_fd = self._write_fd = -1
        self._saved_handlers: dict[int, Any] = {}
        self._saved_wakeup_fd = -1

    def install(self) -> None:
        """Install the handlers and start the thread. Only the main thread may install signal handlers."""
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("signal handlers can only be installed from the main thread")
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)  # set_wakeup_fd requires it
        self._saved_wakeup_fd = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        for signum in sorted({*FORWARDED_SIGNALS, *ENDING_SIGNALS, signal.SIGCHLD}):
            previous = signal.getsignal(signum)
            if previous is signal.SIG_IGN and signum != signal.SIGCHLD:
                # Ignored when we started (nohup, `cmd &` in a script): the child inherits that, as with exec.
                continue
            self._saved_handlers[signum] = signal.signal(signum, _no_op)
        self._closing = False
        self._thread = threading.Thread(target=self._read, name="envinject-signals", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread after one last wakeup, then give back the handlers. Call from the main thread."""
        if self._thread is None:
            return
        self._closing = True
        os.write(self._write_fd, b"\0")
        self._thread.join()
        self._thread = None
        signal.set_wakeup_fd(self._saved_wakeup_fd)
        for signum, handler in self._saved_handlers.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self._saved_handlers.clear()
        os.close(self._read_fd)
        os.close(self._write_fd)

    def _read(self) -> None:
        while True:
            data = os.read(self._read_fd, 512)
            # Byte 0 comes from close(); SIGCHLD only says that there is something to reap.
            self._on_wakeup([signum for signum in data if signum and signum != signal.SIGCHLD])
            if self._closing:
                return


def _no_op(signum: int, frame: Any) -> None:
    """The Python-level handler: the work is done by the handlers' thread, woken by set_wakeup_fd."""
