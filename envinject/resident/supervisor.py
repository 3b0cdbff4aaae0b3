"""The process supervisor for the resident modes (``--init``, ``--watch``, ``--mask``).

Exec stays the default; a Supervisor is for the modes where envinject must outlive the start of the
command. One Supervisor owns one child at a time: it starts it in its own session, forwards signals to it,
reaps it (and, as PID 1, every orphan), stops it with a signal then SIGKILL, restarts it with a new
environment, and returns its exit status.

The child runs in a new session: its pid is its process group, and it has no controlling terminal, so a
program that opens /dev/tty (a password prompt) belongs in exec mode. Its stdin is ours, unchanged.

Signals: handlers are installed in the main thread on the first ``start()`` and given back by ``close()``.
They do nothing in Python; ``signal.set_wakeup_fd`` writes each signal's number to a pipe that a small
thread reads, so a signal is forwarded at once even while the main thread is busy (e.g. fetching secrets
in ``poll``), and no lock is ever taken inside a signal handler.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any

from ..errors import EnvinjectError
from ..system.process import check_exec, command_error, find_command
from .mask import DEFAULT_MIN_LENGTH, Masker

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
#: The others (reload, reopen logs, resize) are requests to the main process only, which relays them to
#: its workers as it sees fit (nginx, gunicorn).
GROUP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGQUIT})
#: Once one of these was forwarded, envinject is being asked to end: it neither restarts nor polls again.
STOP_SIGNALS = GROUP_SIGNALS

#: A child that exits sooner than this after its start is restarted only this long after that start,
#: so ``restart_on_exit`` with a command that fails at once does not spin.
_CRASH_BACKOFF = 1.0
#: A command that cannot be started again is retried, the wait doubling from _CRASH_BACKOFF up to this.
_MAX_RESTART_BACKOFF = 30.0
#: After the child exits, its output is copied until EOF; a pipe that stays silent this long is left
#: behind, because a background process that inherited it may keep it open forever.
_DRAIN_IDLE = 1.0
_PR_SET_CHILD_SUBREAPER = 36  # from <linux/prctl.h>


@dataclass(frozen=True)
class SupervisorOptions:
    """How the child is run, stopped and restarted."""

    #: Sent to the child's process group by ``stop()`` and before each restart.
    stop_signal: int = signal.SIGTERM
    #: Seconds to wait after ``stop_signal`` before SIGKILL to the whole process group.
    kill_timeout: float = 10.0
    #: Values to hide in the child's stdout and stderr. Empty: the child writes to ours directly.
    mask_values: Sequence[str] = ()
    #: Values shorter than this many characters are not masked, so ``true`` or ``5432`` don't garble output.
    mask_min_length: int = DEFAULT_MIN_LENGTH
    #: In ``run()``: start the child again when it exits on its own (never after a stop signal).
    restart_on_exit: bool = False
    #: Reap every child, so orphaned grandchildren leave no zombie. None: only when envinject is PID 1,
    #: since ``waitpid(-1)`` also takes the status of any other subprocess envinject runs (a
    #: ``credential_process``, say). True: always, and become a child subreaper (Linux) so that orphans
    #: are re-parented to envinject even when it is not PID 1.
    reap_orphans: bool | None = None
    #: Where the resident modes' log lines go (a rejected environment, a restart that failed); each is one
    #: line that names no value. None: ``envinject: ...`` on stderr.
    log: Callable[[str], None] | None = None


class Supervisor:
    """Owns the child process of a resident mode. Public methods take the lock and call private ones.

    Use it as a context manager, in the main thread::

        with Supervisor(SupervisorOptions(mask_values=values)) as sup:
            sup.start(argv, env)
            status = sup.run(poll, interval=60.0)
    """

    def __init__(self, options: SupervisorOptions | None = None) -> None:
        self.options = options or SupervisorOptions()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)  # notified after every signal and reap
        self._mask_values: list[str] = list(self.options.mask_values)
        self._proc: subprocess.Popen[bytes] | None = None
        self._status: int | None = None  # of the current child, once reaped
        self._started_at = 0.0
        self._argv: list[str] = []
        self._env: dict[str, str] = {}
        self._search_path: str | None = None
        self._stop_requested = False
        self._pumps: list[_Pump] = []
        self._reap_all = False
        self._subreaper = False
        self._wake_r = -1
        self._wake_w = -1
        self._events: threading.Thread | None = None
        self._closing = False
        self._saved_handlers: dict[int, Any] = {}
        self._saved_wakeup_fd = -1

    # Public API: each takes the lock and calls a private method.

    @property
    def pid(self) -> int | None:
        """The running child's pid (also its process group and session id), or None."""
        with self._lock:
            return self._proc.pid if self._proc is not None and self._running() else None

    def start(self, argv: Sequence[str], env: Mapping[str, str], search_path: str | None = None) -> None:
        """Start ``argv`` with exactly ``env``, in a new session, with our stdin.

        The command is searched on the new environment's PATH, or on ``search_path`` when it has none.
        Raises CommandError with 127 when the command is not found and 126 when it cannot be run.
        The first call must come from the main thread, where signal handlers can be installed.
        """
        with self._lock:
            self._start(argv, env, search_path)

    def stop(self) -> int | None:
        """Stop the child: ``stop_signal`` to its group, up to ``kill_timeout``, then SIGKILL to the group.

        Returns its exit status (None if none was started), after its output was copied.
        """
        with self._lock:
            status = self._stop()
            pumps = list(self._pumps)
        _drain(pumps)
        return status

    def send_signal(self, signum: int) -> None:
        """Send ``signum`` to the running child itself (a reload request: SIGHUP, SIGUSR1); nothing if none runs."""
        with self._lock:
            if self._proc is not None and self._running():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self._proc.pid, signum)

    def restart(self, env: Mapping[str, str]) -> None:
        """Stop the child and start the same command with ``env``.

        If envinject receives a stop signal while the old child stops, no new child is started.
        """
        with self._lock:
            self._restart(env)

    def add_mask_values(self, values: Iterable[str]) -> None:
        """Also mask ``values`` in the output of children started from now on (old values stay masked)."""
        with self._lock:
            self._mask_values.extend(values)

    def wait(self) -> int:
        """Block until the child exits and its output is copied; return its exit status, or 128+N when
        signal N killed it."""
        with self._lock:
            self._require_child()
            self._cond.wait_for(lambda: not self._running())
            status, pumps = self._status, list(self._pumps)
        _drain(pumps)
        assert status is not None
        return status

    def run(
        self,
        poll: Callable[[], Mapping[str, str] | None] | None = None,
        interval: float | Callable[[], float] = 60.0,
    ) -> int:
        """Wait for the child; every ``interval`` seconds call ``poll()`` and, when it returns an
        environment, restart the child with it. Return the exit status of the child that ends the run.

        ``interval`` may be a function, called after each poll (for jitter or backoff). ``poll`` runs in
        its own thread, without the lock: a poll that hangs (an endpoint that never answers) delays
        nothing else. A stop signal or the child's exit ends the run at once, and a poll still under way
        is abandoned, its result unused. An exception from ``poll`` propagates (``close()`` then stops the
        child). A new environment is checked before the child is stopped (see ``check_exec``): one that
        could not be exec'd is logged and the child keeps running. A restart that fails after the stop
        starts the command again with the environment it last started with, backing off while even that
        fails. With ``restart_on_exit`` a child that exits on its own is started again with the latest
        environment. After a stop signal was forwarded, no more polls or restarts happen.
        """
        next_interval = interval if callable(interval) else lambda: float(interval)
        deadline = time.monotonic() + next_interval() if poll is not None else None
        pending: _Poll | None = None
        while True:
            with self._lock:
                self._require_child()
                due = False
                if pending is None and deadline is not None and not self._stop_requested:
                    timeout: float | None = max(0.0, deadline - time.monotonic())
                else:
                    timeout = None
                self._wait_for_exit_or(pending, timeout)
                if not self._running():
                    if self._restart_after_exit():
                        continue
                    status, pumps = self._status, list(self._pumps)
                    break
                if pending is None:
                    due = deadline is not None and not self._stop_requested and time.monotonic() >= deadline
            if due and poll is not None:
                pending = _Poll(poll, self._cond)
                continue
            if pending is None or not pending.done:
                continue
            done, pending = pending, None
            if self._stop_requested:
                continue  # nothing more to do than wait for the child
            new_env = done.result()
            deadline = time.monotonic() + next_interval()
            if new_env is not None:
                with self._lock:
                    self._apply(new_env)
        _drain(pumps)
        assert status is not None
        return status

    def close(self) -> None:
        """Stop the child if it still runs, then give back the signal handlers. Call from the main thread."""
        with self._lock:
            if self._events is None:
                return
            self._stop()
            self._closing = True
        os.write(self._wake_w, b"\0")
        self._events.join()
        self._events = None
        signal.set_wakeup_fd(self._saved_wakeup_fd)
        for signum, handler in self._saved_handlers.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self._saved_handlers.clear()
        os.close(self._wake_r)
        os.close(self._wake_w)
        if self._subreaper:
            _set_subreaper(False)
            self._subreaper = False

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # Private methods: called with the lock held.

    def _running(self) -> bool:
        return self._proc is not None and self._status is None

    def _require_child(self) -> None:
        if self._proc is None:
            raise RuntimeError("Supervisor: start() a child first")

    def _start(self, argv: Sequence[str], env: Mapping[str, str], search_path: str | None) -> None:
        if self._running():
            raise RuntimeError("Supervisor: a child is already running")
        self._install()
        argv = list(argv)
        program = find_command(argv[0], env, search_path)
        masker = Masker(self._mask_values, self.options.mask_min_length)
        output = subprocess.PIPE if masker.active else None
        # Our own buffered output must come before the child's.
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            # A new session: the child's pid is its process group, which stop() and GROUP_SIGNALS address,
            # and a Ctrl-C on the terminal reaches envinject only, which forwards it once.
            proc = subprocess.Popen(
                argv, executable=program, env=dict(env), stdout=output, stderr=output, start_new_session=True
            )
        except OSError as e:
            raise command_error(argv[0], e) from None
        self._proc = proc
        self._status = None
        self._stop_requested = False
        self._started_at = time.monotonic()
        self._argv, self._env, self._search_path = argv, dict(env), search_path
        self._pumps = []
        if proc.stdout is not None and proc.stderr is not None:
            self._pumps = [
                _Pump(proc.stdout, 1, masker),
                _Pump(proc.stderr, 2, masker.fresh()),
            ]

    def _stop(self) -> int | None:
        if self._running():
            self._signal_group(self.options.stop_signal)
            if not self._cond.wait_for(lambda: not self._running(), self.options.kill_timeout):
                self._signal_group(signal.SIGKILL)
                self._cond.wait_for(lambda: not self._running())
        return self._status

    def _wait_for_exit_or(self, poll: _Poll | None, timeout: float | None) -> None:
        self._cond.wait_for(lambda: not self._running() or (poll is not None and poll.done), timeout)

    def _restart(self, env: Mapping[str, str]) -> None:
        self._require_child()
        self._stop()
        if self._stop_requested:
            return
        self._start(self._argv, env, self._search_path)

    def _apply(self, env: Mapping[str, str]) -> None:
        """Restart with ``env`` from a poll, if it can be exec'd; else log why and keep the child."""
        if self._stop_requested:
            return
        try:
            check_exec(self._argv, env)
        except EnvinjectError as e:
            self._log(f"the new environment cannot be used: {e}; the command keeps running")
            return
        if not self._running():
            self._env = dict(env)  # restart_on_exit starts the next child with it
            return
        self._stop()
        if self._stop_requested:
            return
        try:
            self._start(self._argv, env, self._search_path)
        except (EnvinjectError, ValueError) as e:
            self._log(f"cannot start {self._argv[0]} with the new environment ({_reason(e)}); "
                      "starting it with the previous one")  # fmt: skip
            self._start_with_backoff()

    def _start_with_backoff(self) -> bool:
        """Start the command with the environment it last started with, again and again, waiting longer
        each time (up to _MAX_RESTART_BACKOFF), until it starts or a stop signal comes; False then."""
        wait = _CRASH_BACKOFF
        while not self._stop_requested:
            try:
                self._start(self._argv, self._env, self._search_path)
                return True
            except (EnvinjectError, ValueError) as e:
                self._log(f"cannot start {self._argv[0]} ({_reason(e)}); next try in {wait:g}s")
            if self._cond.wait_for(lambda: self._stop_requested, wait):
                break
            wait = min(wait * 2, _MAX_RESTART_BACKOFF)
        return False

    def _restart_after_exit(self) -> bool:
        """With restart_on_exit, start the child again after it exited on its own; False if not."""
        if not self.options.restart_on_exit or self._stop_requested:
            return False
        wait = _CRASH_BACKOFF - (time.monotonic() - self._started_at)
        if wait > 0 and self._cond.wait_for(lambda: self._stop_requested, wait):
            return False
        return self._start_with_backoff()

    def _log(self, message: str) -> None:
        if self.options.log is not None:
            self.options.log(message)
            return
        with contextlib.suppress(OSError):  # no stderr: nowhere to say it
            os.write(2, f"envinject: {message}\n".encode(errors="replace"))

    def _signal_group(self, signum: int) -> None:
        assert self._proc is not None
        pid = self._proc.pid
        try:
            os.killpg(pid, signum)
        except ProcessLookupError:
            # The child left its group (setpgid): at least the child itself gets it.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def _forward(self, signum: int) -> None:
        if signum in STOP_SIGNALS:
            self._stop_requested = True
            if self._running() and self._proc is not None:
                # A child that ignores the stop signal is killed after kill_timeout, as stop() would.
                timer = threading.Timer(self.options.kill_timeout, self._kill_if_running, (self._proc,))
                timer.daemon = True
                timer.start()
        if not self._running():
            return
        if signum in GROUP_SIGNALS:
            self._signal_group(signum)
        else:
            assert self._proc is not None
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._proc.pid, signum)

    def _kill_if_running(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            if self._proc is proc and self._running():
                self._signal_group(signal.SIGKILL)

    def _reap(self) -> None:
        if self._reap_all:
            while True:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    return
                if pid == 0:
                    return
                if self._proc is not None and pid == self._proc.pid and self._status is None:
                    self._exited(status)
        elif self._running():
            assert self._proc is not None
            try:
                pid, status = os.waitpid(self._proc.pid, os.WNOHANG)
            except ChildProcessError:
                # Someone else's waitpid(-1) took it; its status is lost. 255 rather than a false success.
                pid, status = self._proc.pid, 255 << 8
            if pid:
                self._exited(status)

    def _exited(self, status: int) -> None:
        assert self._proc is not None
        code = os.waitstatus_to_exitcode(status)
        self._proc.returncode = code  # so that Popen never waits for this pid itself
        self._status = 128 - code if code < 0 else code

    def _install(self) -> None:
        """Install the signal handlers and start the event thread, once."""
        if self._events is not None:
            return
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("Supervisor: the first start() must run in the main thread (signal handlers)")
        self._reap_all = self.options.reap_orphans if self.options.reap_orphans is not None else os.getpid() == 1
        if self.options.reap_orphans and os.getpid() != 1:
            self._subreaper = _set_subreaper(True)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)  # set_wakeup_fd requires it
        self._saved_wakeup_fd = signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)
        for signum in (*FORWARDED_SIGNALS, signal.SIGCHLD):
            previous = signal.getsignal(signum)
            if previous is signal.SIG_IGN and signum != signal.SIGCHLD:
                # Ignored when we started (nohup, `cmd &` in a script): the child inherits that, as with exec.
                continue
            self._saved_handlers[signum] = signal.signal(signum, _no_op)
        self._closing = False
        self._events = threading.Thread(target=self._event_loop, name="envinject-signals", daemon=True)
        self._events.start()

    def _event_loop(self) -> None:
        """Forward each signal read from the wakeup pipe, then reap; byte 0 only wakes us (close)."""
        while True:
            data = os.read(self._wake_r, 512)
            with self._lock:
                for signum in data:
                    if signum and signum != signal.SIGCHLD:
                        self._forward(signum)
                # Reaping on every wakeup costs a syscall and covers a SIGCHLD merged with another one.
                self._reap()
                self._cond.notify_all()
                if self._closing:
                    return


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


def _no_op(signum: int, frame: Any) -> None:
    """The Python-level handler: the work is done by the event thread, woken by set_wakeup_fd."""


def _set_subreaper(on: bool) -> bool:
    """Make orphaned descendants ours to reap (Linux only); True if it worked."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0)


def _drain(pumps: Sequence[_Pump]) -> None:
    """Wait until the pumps copied everything, or until one stays idle (its pipe kept open elsewhere)."""
    since = time.monotonic()
    for pump in pumps:
        while pump.alive():
            pump.join(0.05)
            idle = time.monotonic() - max(pump.last_read, since)
            if idle > _DRAIN_IDLE and not pump.writing:
                break


class _Pump:
    """Copies one of the child's output pipes to one of our fds through a Masker, on its own thread.

    One thread per pipe: neither pipe can fill up while the other is being read, whatever the child does.
    """

    def __init__(self, source: IO[bytes], target_fd: int, masker: Masker) -> None:
        self._source = source
        self._target = target_fd
        self._masker = masker
        self.last_read = time.monotonic()
        self.writing = False
        self._thread = threading.Thread(target=self._run, name=f"envinject-mask-{target_fd}", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        fd = self._source.fileno()
        try:
            while True:
                # os.read returns whatever is there: a line the child flushed goes out now.
                chunk = os.read(fd, 65536)
                self.last_read = time.monotonic()
                if not chunk:
                    self._write(self._masker.flush())
                    return
                self._write(self._masker.feed(chunk))
        except OSError:
            # Our stdout is gone (EPIPE, EBADF): closing the pipe gives the child the EPIPE or SIGPIPE
            # it would get writing there itself.
            pass
        finally:
            self._source.close()

    def _write(self, data: bytes) -> None:
        self.writing = True
        try:
            view = memoryview(data)
            while view:
                try:
                    view = view[os.write(self._target, view) :]
                except BlockingIOError:
                    # Our stdout was left non-blocking by whoever started us: wait until it takes more.
                    select.select([], [self._target], [])
        finally:
            self.writing = False
