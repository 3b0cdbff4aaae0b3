"""The signals a resident envinject handles, by class: every catchable signal whose default action would end it
either goes to the command or ends the run cleanly (the command stopped, the folder of files removed, 128+N).
Each is sent to a real driver process, as PID 1 of a new PID namespace where this machine allows it, and as a
plain process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from envinject.resident.signals import (
    ENDING_SIGNALS,
    FORWARDED_SIGNALS,
    GROUP_SIGNALS,
    SYNCHRONOUS_SIGNALS,
    ending_signals,
)
from tests.unit.test_loop import ROOT, gone, no_pid_namespace, wait_for

#: Linux's default actions, from signal(7): the oracle, written out apart from the code. Every real-time signal
#: (SIGRTMIN to SIGRTMAX) terminates.
LINUX_DEFAULTS = {
    "SIGHUP": "Term", "SIGINT": "Term", "SIGQUIT": "Core", "SIGILL": "Core", "SIGTRAP": "Core", "SIGABRT": "Core",
    "SIGBUS": "Core", "SIGFPE": "Core", "SIGKILL": "Term", "SIGUSR1": "Term", "SIGSEGV": "Core", "SIGUSR2": "Term",
    "SIGPIPE": "Term", "SIGALRM": "Term", "SIGTERM": "Term", "SIGSTKFLT": "Term", "SIGCHLD": "Ign", "SIGCONT": "Cont",
    "SIGSTOP": "Stop", "SIGTSTP": "Stop", "SIGTTIN": "Stop", "SIGTTOU": "Stop", "SIGURG": "Ign", "SIGXCPU": "Core",
    "SIGXFSZ": "Core", "SIGVTALRM": "Term", "SIGPROF": "Term", "SIGWINCH": "Ign", "SIGIO": "Term", "SIGPWR": "Term",
    "SIGSYS": "Core",
}  # fmt: skip
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the table is Linux's")


def name(signum: int) -> str:
    """SIGALRM, or SIGRTMIN+3 for a real-time signal without a name of its own."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"SIGRTMIN+{signum - signal.SIGRTMIN}"


def default_action(signum: int) -> str:
    if signal.SIGRTMIN <= signum <= signal.SIGRTMAX:
        return "Term"
    return LINUX_DEFAULTS[name(signum)]


@linux_only
def test_every_catchable_signal_whose_default_ends_a_process_is_handled() -> None:
    ends = {s for s in signal.valid_signals() if default_action(s) in ("Term", "Core")}
    catchable = ends - {signal.SIGKILL}
    # The synchronous faults keep their default (a returning handler would make a real fault repeat forever).
    assert ending_signals() == catchable - SYNCHRONOUS_SIGNALS
    assert {signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGSYS} == SYNCHRONOUS_SIGNALS
    assert ending_signals() - set(FORWARDED_SIGNALS) == ENDING_SIGNALS
    # The seven the report named are in the class, as are the 31 real-time signals.
    named = {"SIGALRM", "SIGPWR", "SIGABRT", "SIGVTALRM", "SIGPROF", "SIGIO"}
    assert {getattr(signal, n) for n in named} | {signal.SIGRTMIN} <= ENDING_SIGNALS
    assert set(range(signal.SIGRTMIN, signal.SIGRTMAX + 1)) <= ENDING_SIGNALS


#: A driver as run.supervise builds it without memfd: a folder of file secrets, a Loop, and the folder removed
#: when the Loop returns. argv: JSON config.
DRIVER = """
import json, os, sys
from envinject.resident.child import Child
from envinject.resident.loop import Loop
from envinject.resident.options import ResidentOptions
from envinject.resident.secret_files import SecretFiles

cfg = json.loads(sys.argv[1])
os.environ["XDG_RUNTIME_DIR"] = cfg["run_dir"]
options = ResidentOptions(kill_timeout=5)
with SecretFiles(resident=True, memfd=False) as files:
    path = files.write("TLS_KEY", b"canary-file-secret")
    child = Child(cfg["argv"], options)
    status = Loop(child, options).run({**os.environ, "TLS_KEY": path})
sys.exit(status)
"""

#: Says when it started; on SIGTERM (the stop signal) says it was stopped and exits.
STOPPABLE = """
import os, signal, sys, time
here = sys.argv[1]
def stop(*_):
    open(os.path.join(here, "stopped"), "w").close()
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
assert open(os.environ["TLS_KEY"]).read() == "canary-file-secret"
open(os.path.join(here, "pid.tmp"), "w").write(str(os.getpid()))
os.rename(os.path.join(here, "pid.tmp"), os.path.join(here, "pid"))
while True:
    time.sleep(0.02)
"""


def driver_pid(proc: subprocess.Popen[bytes], wrapped: bool) -> int:
    """The driver's pid as seen from here: unshare's child when it runs as PID 1 of a namespace."""
    if not wrapped:
        return proc.pid
    from tests.unit.test_loop import children

    return int(wait_for(lambda: next(iter(children(proc.pid)), None), what="driver in the namespace"))


WRAPS = ["plain", "pid-1"]
#: Python ignores these from its start (the signal module's documentation): they end no Python process, so they
#: stay ignored (a write to a closed pipe is an EPIPE error instead).
IGNORED_BY_PYTHON = {signal.SIGPIPE, signal.SIGXFSZ}


def test_python_ignores_exactly_sigpipe_and_sigxfsz() -> None:
    code = (
        "import signal; print(sorted(int(s) for s in signal.valid_signals() if signal.getsignal(s) is signal.SIG_IGN))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert set(json.loads(shown)) == IGNORED_BY_PYTHON


def start_driver(tmp_path: Path, child_code: str, prefix: list[str] = ()) -> tuple[subprocess.Popen[bytes], Path, Path]:
    """The driver with a STOPPABLE-like child; its output goes to files (a pipe the child inherits could hang a
    test whose driver died). Returns the process, the folder of file secrets' base and the child's folder."""
    run_dir, here = tmp_path / "run", tmp_path / "here"
    run_dir.mkdir()
    here.mkdir()
    (tmp_path / "driver.py").write_text(DRIVER)
    (tmp_path / "child.py").write_text(child_code)
    config = {"run_dir": str(run_dir), "argv": [sys.executable, str(tmp_path / "child.py"), str(here)]}
    with open(tmp_path / "out", "wb") as out:
        proc = subprocess.Popen([*prefix, sys.executable, str(tmp_path / "driver.py"), json.dumps(config)],
                                env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=out, stderr=out)  # fmt: skip
    return proc, run_dir, here


def stop_all(proc: subprocess.Popen[bytes], here: Path, inner: int | None = None) -> None:
    """Whatever a failed test left running. ``inner``: the driver's pid here when it is PID 1 of a namespace,
    whose end ends everything in it (the child's own pid means another process out here); else the child by its
    pid, then the driver."""
    if inner is not None:
        if not gone(inner):
            os.kill(inner, signal.SIGKILL)
    elif (here / "pid").exists() and not gone(child := int((here / "pid").read_text())):
        os.kill(child, signal.SIGKILL)
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("wrap", WRAPS)
@pytest.mark.parametrize("signum", sorted(ENDING_SIGNALS - IGNORED_BY_PYTHON), ids=name)
def test_a_signal_that_would_end_envinject_stops_the_command_and_removes_the_folder(
    tmp_path: Path, signum: int, wrap: str
) -> None:
    if wrap == "pid-1" and no_pid_namespace():
        pytest.skip(no_pid_namespace())
    prefix = ["unshare", "--pid", "--fork", "--mount-proc"] if wrap == "pid-1" else []
    proc, run_dir, here = start_driver(tmp_path, STOPPABLE, prefix)
    inner = None
    try:
        inner = driver_pid(proc, wrap == "pid-1") if wrap == "pid-1" else None
        wait_for((here / "pid").exists, timeout=20, what="the command")
        assert len(list(run_dir.iterdir())) == 1
        os.kill(inner or proc.pid, signum)
        status = proc.wait(20)
        output = (tmp_path / "out").read_bytes()
        assert status == 128 + signum, output
        assert list(run_dir.iterdir()) == []  # the folder of plaintext files is gone
        assert (here / "stopped").exists()  # the command got the stop signal and ended, not orphaned
        assert b"canary" not in output
    finally:
        stop_all(proc, here, inner)


@pytest.mark.parametrize("signum", sorted(IGNORED_BY_PYTHON), ids=name)
def test_a_signal_python_ignores_stays_ignored(tmp_path: Path, signum: int) -> None:
    proc, run_dir, here = start_driver(tmp_path, STOPPABLE)
    try:
        wait_for((here / "pid").exists, timeout=20, what="the command")
        proc.send_signal(signum)
        time.sleep(0.3)
        assert proc.poll() is None and len(list(run_dir.iterdir())) == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        assert list(run_dir.iterdir()) == []
    finally:
        stop_all(proc, here)


@pytest.mark.parametrize("signum", sorted(set(FORWARDED_SIGNALS) - GROUP_SIGNALS), ids=name)
def test_forwarded_signals_are_still_forwarded_and_the_run_goes_on(tmp_path: Path, signum: int) -> None:
    # SIGHUP, SIGUSR1, SIGUSR2 and SIGWINCH are requests to the command (reload, reopen logs, resize), not an end.
    code = STOPPABLE.replace(
        "signal.signal(signal.SIGTERM, stop)",
        f"signal.signal(signal.SIGTERM, stop)\nsignal.signal({signum}, lambda *_: open(here + '/got', 'w').close())",
    )
    proc, run_dir, here = start_driver(tmp_path, code)
    try:
        wait_for((here / "pid").exists, timeout=20, what="the command")
        proc.send_signal(signum)
        wait_for((here / "got").exists, what="the forwarded signal")
        time.sleep(0.2)
        assert proc.poll() is None and len(list(run_dir.iterdir())) == 1  # still running, files in place
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0  # the command's own status after a forwarded stop signal
        assert list(run_dir.iterdir()) == []
    finally:
        stop_all(proc, here)
