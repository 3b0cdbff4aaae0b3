"""The resident modes' main loop: it waits for the child, forwards signals to it, polls for a new environment
(``--watch``) and restarts the child with it, restarts a child that exited (``--restart-on-exit``), and returns
the exit status of the child that ends the run.

Each poll runs on its own daemon thread, without any lock: a poll that hangs (an endpoint that never answers)
delays nothing else, and a stop signal or the child's exit ends the run at once, abandoning it.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from ..errors import EnvinjectError
from ..system.process import check_exec
from .child import Child
from .options import ResidentOptions
from .reaper import Reaper
from .signals import ENDING_SIGNALS, GROUP_SIGNALS, SignalHandlers


class Poller(Protocol):
    """What ``--watch`` polls (a :class:`~.watch.Watcher`)."""

    @property
    def failures(self) -> int:
        """Polls failed in a row: the wait before the next poll grows with them (``ResidentOptions.poll``)."""
        ...

    def poll(self) -> Mapping[str, str] | None:
        """A new environment to restart the command with, or None to keep it."""
        ...


class Loop:
    """Supervises one :class:`Child` from the main thread, where the signal handlers are installed.

    Locking: ``_cond`` guards ``_stopping`` and wakes the main thread. It may be held while the child is
    started or signalled, never while waiting for the child to exit, since the signal thread reaps it.
    """

    def __init__(self, child: Child, options: ResidentOptions) -> None:
        self._child = child
        self._options = options
        self._cond = threading.Condition()  # notified after every signal and reap, and when a poll ends
        self._stopping = False  # a stop signal was forwarded: no more polls or restarts
        self._ended_by: int | None = None  # the ending signal (not forwarded) that stopped the run, if one did
        self._env: dict[str, str] = {}  # the environment the command last started with, or starts with next
        self._started_at = 0.0
        self._reaper = Reaper(options.reap_orphans)
        self._signals = SignalHandlers(self._on_wakeup)

    def run(self, env: Mapping[str, str], poller: Poller | None = None) -> int:
        """Start the command with ``env``, supervise it until it ends the run, and return its exit status.

        With a ``poller``, a poll is due every ``ResidentOptions.poll`` interval; a new environment it returns
        is checked (see ``check_exec``) before the child is stopped: one that could not be exec'd is logged and
        the child keeps running. A restart that fails after the stop starts the command again with the
        environment it last started with, backing off while even that fails. With ``restart_on_exit`` a child
        that exits on its own is started again with the latest environment. After a stop signal was
        forwarded, no more polls or restarts happen. Any other signal that would end envinject (``ENDING_SIGNALS``)
        stops the child with ``stop_signal`` as a stop signal does, and the run returns 128+N for it. An exception
        from a poll propagates, after the child was stopped; so does a first start that fails (CommandError).
        """
        try:
            self._reaper.install()
            self._signals.install()
            with self._cond:
                self._start(env)
            status = self._supervise(poller)
            return status if self._ended_by is None else 128 + self._ended_by
        finally:
            self._child.stop()
            self._signals.close()
            self._reaper.close()

    def _supervise(self, poller: Poller | None) -> int:
        deadline = self._next_poll(poller)
        pending: _Poll | None = None
        while True:
            with self._cond:
                if pending is None and deadline is not None and not self._stopping:
                    timeout: float | None = max(0.0, deadline - time.monotonic())
                else:
                    timeout = None
                self._wait_for_exit_or(pending, timeout)
                if not self._child.running:
                    if self._restart_after_exit():
                        continue
                    break
                due = pending is None and deadline is not None and not self._stopping and time.monotonic() >= deadline
            if due and poller is not None:
                pending = _Poll(poller.poll, self._cond)
                continue
            if pending is None or not pending.done:
                continue
            done, pending = pending, None
            if self._stopping:
                continue  # nothing more to do than wait for the child
            new_env = done.result()
            deadline = self._next_poll(poller)
            if new_env is not None:
                self._apply(new_env)
        return self._child.wait()

    def _next_poll(self, poller: Poller | None) -> float | None:
        if poller is None or self._options.poll is None:
            return None
        return time.monotonic() + self._options.poll.delay(poller.failures)

    def _wait_for_exit_or(self, poll: _Poll | None, timeout: float | None) -> None:
        self._cond.wait_for(lambda: not self._child.running or (poll is not None and poll.done), timeout)

    def _apply(self, env: Mapping[str, str]) -> None:
        """Restart with ``env`` from a poll, if it can be exec'd; else log why and keep the child."""
        if self._stopping:
            return
        try:
            check_exec(self._child.command, env)
        except EnvinjectError as e:
            _log(f"the new environment cannot be used: {e}; the command keeps running")
            return
        if not self._child.running:
            self._env = dict(env)  # restart_on_exit starts the next child with it
            return
        self._child.stop()  # without the lock: the signal thread must be free to reap the child
        with self._cond:
            if self._stopping:
                return
            try:
                self._start(env)
            except (EnvinjectError, ValueError) as e:
                _log(f"cannot start {self._child.command[0]} with the new environment ({_reason(e)}); "
                     "starting it with the previous one")  # fmt: skip
                self._start_with_backoff()

    # Called with the lock held.

    def _start(self, env: Mapping[str, str]) -> None:
        self._child.start(env)
        self._env = dict(env)
        self._started_at = time.monotonic()

    def _start_with_backoff(self) -> bool:
        """Start the command with the environment it last started with, again and again, waiting longer each
        time, until it starts (True) or a stop signal comes (False)."""
        failures = 0
        while not self._stopping:
            wait = self._options.restart.delay(failures)
            try:
                self._start(self._env)
                return True
            except (EnvinjectError, ValueError) as e:
                _log(f"cannot start {self._child.command[0]} ({_reason(e)}); next try in {wait:g}s")
            if self._cond.wait_for(lambda: self._stopping, wait):
                break
            failures += 1
        return False

    def _restart_after_exit(self) -> bool:
        """With restart_on_exit, start the child again after it exited on its own; False if not."""
        if not self._options.restart_on_exit or self._stopping:
            return False
        # A command that fails at once must not spin: its next start waits out the first restart delay.
        wait = self._options.restart.delay(0) - (time.monotonic() - self._started_at)
        if wait > 0 and self._cond.wait_for(lambda: self._stopping, wait):
            return False
        return self._start_with_backoff()

    # On the signal thread.

    def _on_wakeup(self, signums: list[int]) -> None:
        with self._cond:
            for signum in signums:
                if signum in GROUP_SIGNALS:  # a stop signal
                    self._stopping = True
                    self._child.begin_stop(signum)
                elif signum in ENDING_SIGNALS:  # meant to end envinject: end the run as a stop signal would
                    self._stopping = True
                    self._ended_by = signum if self._ended_by is None else self._ended_by
                    self._child.begin_stop(self._options.stop_signal)
                else:
                    self._child.signal(signum)
        # Reaping on every wakeup costs a syscall and covers a SIGCHLD merged with another signal.
        self._reaper.reap(self._child)
        with self._cond:
            self._cond.notify_all()


def _log(message: str) -> None:
    """One line that names no value, on stderr."""
    with contextlib.suppress(OSError):  # no stderr: nowhere to say it
        os.write(2, f"envinject: {message}\n".encode(errors="replace"))


def _reason(e: Exception) -> str:
    """Why a start failed, in words that hold no value (a ValueError from Popen may quote one)."""
    if isinstance(e, EnvinjectError):
        return str(e)
    if isinstance(e, UnicodeEncodeError):
        return "a value cannot be encoded"
    return "the environment holds a NUL byte or a bad name"


class _Poll:
    """One call of a poll function on its own daemon thread; notifies ``cond`` when it is done."""

    def __init__(self, poll: Callable[[], Mapping[str, str] | None], cond: threading.Condition) -> None:
        self._poll, self._cond = poll, cond
        self.done = False
        self._value: Mapping[str, str] | None = None
        self._error: BaseException | None = None
        # A daemon thread: a poll stuck in a request never keeps envinject from exiting.
        threading.Thread(target=self._run, name="envinject-poll", daemon=True).start()

    def _run(self) -> None:
        try:
            self._value = self._poll()
        except BaseException as e:  # noqa: BLE001 - handed to the main thread, which raises it
            self._error = e
        with self._cond:
            self.done = True
            self._cond.notify_all()

    def result(self) -> Mapping[str, str] | None:
        """The poll's environment; raises what the poll raised."""
        if self._error is not None:
            raise self._error
        return self._value
