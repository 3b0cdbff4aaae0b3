"""The child process of the resident modes: one command, started, signalled, stopped and waited for.

The child runs in a new session: its pid is its process group, and it has no controlling terminal, so a
program that opens /dev/tty (a password prompt) belongs in exec mode. Its stdin is ours, unchanged; its
stdout and stderr are ours too, unless an :class:`Output` filters them.

A Child does not reap: whoever owns the process-wide SIGCHLD (see :mod:`.reaper`) calls :meth:`Child.exited`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Protocol

from ..system.process import command_error, find_command
from .memory import give_core_limit
from .options import ResidentOptions


class Output(Protocol):
    """Where the child's stdout and stderr go when they must be filtered (``--mask``)."""

    @property
    def active(self) -> bool:
        """Whether output must be filtered now; if not, the next child writes to our stdout and stderr itself."""
        ...

    def attach(self, stdout: IO[bytes], stderr: IO[bytes]) -> Callable[[], None]:
        """Copy the child's two pipes to our fds 1 and 2; return a function that waits until both are copied."""
        ...


class Child:
    """One command, run at most once at a time. Public methods take the lock and call private ones."""

    def __init__(
        self,
        command: Sequence[str],
        options: ResidentOptions,
        *,
        output: Output | None = None,
        search_path: str | None = None,
    ) -> None:
        """``command`` is searched on the environment's PATH, or on ``search_path`` when it has none."""
        self.command = list(command)
        self._options = options
        self._output = output
        self._search_path = search_path
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # notified when the process exited
        self._proc: subprocess.Popen[bytes] | None = None
        self._status: int | None = None  # of the last process started, once it exited
        self._drain: Callable[[], None] = _nothing

    @property
    def pid(self) -> int | None:
        """The running process's pid (also its process group and session id), or None."""
        with self._lock:
            return self._proc.pid if self._proc is not None and self._running() else None

    @property
    def running(self) -> bool:
        with self._lock:
            return self._running()

    def start(self, env: Mapping[str, str]) -> None:
        """Start the command with exactly ``env``, in a new session, with our stdin.

        Raises CommandError with 127 when the command is not found and 126 when it cannot be run, and
        ValueError when ``env`` holds a NUL byte.
        """
        with self._lock:
            self._start(env)

    def stop(self) -> int | None:
        """Stop the process: ``stop_signal`` to its group, up to ``kill_timeout``, then SIGKILL to the group.

        Returns its exit status (None if none was started). Its output may still be being copied: a restart
        must not wait for a pipe that a background process keeps open.
        """
        with self._lock:
            return self._stop()

    def begin_stop(self, signum: int) -> None:
        """The stop sequence without waiting for it: ``signum`` to the process group now, and SIGKILL to the
        group if this same process still runs after ``kill_timeout``."""
        with self._lock:
            if self._proc is None or not self._running():
                return
            self._signal(signum, group=True)
            timer = threading.Timer(self._options.kill_timeout, self._kill_if_running, (self._proc,))
            timer.daemon = True
            timer.start()

    def signal(self, signum: int, *, group: bool = False) -> None:
        """Send ``signum`` to the running process, or to its whole process group; nothing if none runs."""
        with self._lock:
            if self._running():
                self._signal(signum, group=group)

    def exited(self, pid: int, wait_status: int) -> None:
        """The reaper's report that ``pid`` exited (``wait_status`` as waitpid gives it); others' pids are ignored."""
        with self._lock:
            if self._proc is not None and self._running() and pid == self._proc.pid:
                code = os.waitstatus_to_exitcode(wait_status)
                self._proc.returncode = code  # so that Popen never waits for this pid itself
                self._status = 128 - code if code < 0 else code
                self._changed.notify_all()

    def wait(self) -> int:
        """Block until the process exited and its output was copied; return its exit status, 128+N when signal N
        killed it."""
        with self._lock:
            if self._proc is None:
                raise RuntimeError("Child: start() it first")
            self._changed.wait_for(lambda: not self._running())
            status, drain = self._status, self._drain
        drain()
        assert status is not None
        return status

    # Private methods: called with the lock held.

    def _running(self) -> bool:
        return self._proc is not None and self._status is None

    def _start(self, env: Mapping[str, str]) -> None:
        if self._running():
            raise RuntimeError("Child: the command is already running")
        program = find_command(self.command[0], env, self._search_path)
        output = self._output if self._output is not None and self._output.active else None
        pipe = subprocess.PIPE if output is not None else None
        # Our own buffered output must come before the child's.
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            # A new session: the child's pid is its process group, which stop() and the group signals address,
            # and a Ctrl-C on the terminal reaches envinject only, which forwards it once.
            proc = subprocess.Popen(
                self.command, executable=program, env=dict(env), stdout=pipe, stderr=pipe, start_new_session=True
            )
        except OSError as e:
            raise command_error(self.command[0], e) from None
        give_core_limit(proc.pid, self._options.core_limit)
        self._proc, self._status, self._drain = proc, None, _nothing
        if output is not None and proc.stdout is not None and proc.stderr is not None:
            self._drain = output.attach(proc.stdout, proc.stderr)

    def _stop(self) -> int | None:
        if self._running():
            self._signal(self._options.stop_signal, group=True)
            if not self._changed.wait_for(lambda: not self._running(), self._options.kill_timeout):
                self._signal(signal.SIGKILL, group=True)
                self._changed.wait_for(lambda: not self._running())
        return self._status

    def _signal(self, signum: int, *, group: bool) -> None:
        assert self._proc is not None
        pid = self._proc.pid
        if group:
            try:
                os.killpg(pid, signum)
                return
            except ProcessLookupError:
                pass  # the child left its group (setpgid): at least the child itself gets it
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    def _kill_if_running(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            if self._proc is proc and self._running():
                self._signal(signal.SIGKILL, group=True)


def _nothing() -> None:
    """The drain of a child that writes to our stdout and stderr itself."""
