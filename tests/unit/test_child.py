"""The Child on its own, in this process, with Python children; a thread reaps it as the loop's signal thread
would on SIGCHLD."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from envinject.errors import CommandError
from envinject.resident.child import Child
from envinject.resident.options import ResidentOptions
from envinject.resident.reaper import Reaper
from tests.waiting import wait_for


def gone(pid: int) -> bool:
    """No longer running: reaped, or a zombie waiting for someone else."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@contextmanager
def reaped(child: Child) -> Iterator[Child]:
    """Reap the child every 10 ms while the block runs (only its own pid: the test process has others)."""
    reaper, done = Reaper(reap_orphans=None), threading.Event()
    reaper.install()

    def reap() -> None:
        while not done.wait(0.01):
            reaper.reap(child)

    thread = threading.Thread(target=reap, daemon=True)
    thread.start()
    try:
        yield child
    finally:
        done.set()
        thread.join()
        reaper.close()


def python(code: str, options: ResidentOptions | None = None) -> Child:
    return Child([sys.executable, "-c", code], options or ResidentOptions())


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("pass", 0),
        ("raise SystemExit(3)", 3),
        ("raise SystemExit(255)", 255),
        ("import os, signal; os.kill(os.getpid(), signal.SIGUSR2)", 128 + signal.SIGUSR2),
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", 137),
    ],
)
def test_exit_status(code: str, status: int) -> None:
    with reaped(python(code)) as child:
        child.start(os.environ)
        assert child.wait() == status
        assert not child.running and child.pid is None


def test_the_command_runs_with_exactly_the_environment_in_a_session_of_its_own(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = f"import os; open({str(out)!r}, 'w').write(repr((dict(os.environ), os.getsid(0) == os.getpid())))"
    with reaped(python(code)) as child:
        child.start({"ONLY": "this"})
        assert child.wait() == 0
    env, own_session = eval(out.read_text())
    assert env.get("ONLY") == "this" and "PATH" not in env
    assert own_session


def test_stop_sends_the_stop_signal() -> None:
    with reaped(python("import time; time.sleep(60)", ResidentOptions(stop_signal=signal.SIGUSR1))) as child:
        child.start(os.environ)
        assert child.running
        assert child.stop() == 128 + signal.SIGUSR1
        assert child.stop() == 128 + signal.SIGUSR1  # stopping twice changes nothing
    assert python("pass").stop() is None  # never started


STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen(["sleep", "60"])  # same process group; inherits the ignored SIGTERM
open(sys.argv[1] + "/grandchild", "w").write(str(grandchild.pid))
time.sleep(60)
"""


def test_a_child_ignoring_the_stop_signal_is_killed_with_its_group(tmp_path: Path) -> None:
    child = Child([sys.executable, "-c", STUBBORN, str(tmp_path)], ResidentOptions(kill_timeout=0.5))
    with reaped(child):
        child.start(os.environ)
        grandchild = int(wait_for(lambda: (tmp_path / "grandchild").exists() and (tmp_path / "grandchild").read_text()))
        asked = time.monotonic()
        assert child.stop() == 128 + signal.SIGKILL
        assert time.monotonic() - asked >= 0.45  # it did wait for kill_timeout first
    wait_for(lambda: gone(grandchild), what="grandchild killed")


def test_begin_stop_kills_the_group_after_the_timeout_without_waiting(tmp_path: Path) -> None:
    child = Child([sys.executable, "-c", STUBBORN, str(tmp_path)], ResidentOptions(kill_timeout=0.5))
    with reaped(child):
        child.start(os.environ)
        grandchild = int(wait_for(lambda: (tmp_path / "grandchild").exists() and (tmp_path / "grandchild").read_text()))
        asked = time.monotonic()
        child.begin_stop(signal.SIGTERM)
        assert time.monotonic() - asked < 0.4 and child.running  # ignored, and not waited for
        assert child.wait() == 128 + signal.SIGKILL
        assert time.monotonic() - asked >= 0.45
    wait_for(lambda: gone(grandchild), what="grandchild killed")


FAMILY = """
import os, signal, subprocess, sys, time
here = sys.argv[1]
def got(name):
    return lambda signum, frame: open(here + "/" + name, "w").close()
signal.signal(signal.SIGUSR1, got("child"))
code = "import signal, sys, time\\n" \\
       "signal.signal(signal.SIGUSR1, lambda s, f: open(sys.argv[1] + '/grandchild', 'w').close())\\n" \\
       "open(sys.argv[1] + '/ready', 'w').close()\\n" \\
       "time.sleep(60)"
subprocess.Popen([sys.executable, "-c", code, here])
while True:
    time.sleep(0.01)
"""


def test_a_signal_goes_to_the_child_or_to_its_whole_group(tmp_path: Path) -> None:
    with reaped(Child([sys.executable, "-c", FAMILY, str(tmp_path)], ResidentOptions(kill_timeout=1))) as child:
        child.start(os.environ)
        wait_for((tmp_path / "ready").exists, what="grandchild ready")
        child.signal(signal.SIGUSR1)
        wait_for((tmp_path / "child").exists, what="the child's signal")
        time.sleep(0.2)
        assert not (tmp_path / "grandchild").exists()
        child.signal(signal.SIGUSR1, group=True)
        wait_for((tmp_path / "grandchild").exists, what="the group's signal")
        child.stop()
        child.signal(signal.SIGUSR1)  # none runs: nothing happens


def test_the_status_of_another_pid_is_not_the_childs() -> None:
    with reaped(python("import time; time.sleep(60)")) as child:
        child.start(os.environ)
        assert child.pid is not None
        child.exited(child.pid + 1, 0)
        assert child.running
        assert child.stop() == 128 + signal.SIGTERM


def test_command_not_found_or_not_executable(tmp_path: Path) -> None:
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\n")
    with pytest.raises(CommandError) as missing:
        Child(["envinject-no-such-command"], ResidentOptions()).start({"PATH": str(tmp_path)})
    assert missing.value.exit_code == 127
    with pytest.raises(CommandError) as denied:
        Child([str(script)], ResidentOptions()).start({})
    assert denied.value.exit_code == 126
    found = Child(["script"], ResidentOptions(), search_path=str(tmp_path))  # no PATH in the environment
    with pytest.raises(CommandError) as denied:
        found.start({})
    assert denied.value.exit_code == 126


def test_one_process_at_a_time() -> None:
    with reaped(python("import time; time.sleep(60)")) as child:
        child.start(os.environ)
        with pytest.raises(RuntimeError):
            child.start(os.environ)
        child.stop()
        child.start(os.environ)  # once it stopped, the command may start again
        assert child.stop() == 128 + signal.SIGTERM
