"""The Loop, run in a small driver process that the tests send signals to, with Python children; and in this
process when no signal is sent."""

from __future__ import annotations

import itertools
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from envinject.resident.child import Child
from envinject.resident.loop import Loop
from envinject.resident.options import ResidentOptions
from envinject.resident.signals import ENDING_SIGNALS, FORWARDED_SIGNALS
from envinject.rules.retry import RetryPolicy
from tests.waiting import wait_for

pytestmark = pytest.mark.slow  # real child processes and their timing


ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-value"

DRIVER = """
import json, os, sys, time
from envinject.resident.child import Child
from envinject.resident.loop import Loop
from envinject.resident.options import ResidentOptions
from envinject.resident.output import MaskedOutput
from envinject.rules.retry import RetryPolicy

cfg = json.loads(sys.argv[1])
env = {**os.environ, **cfg.get("env", {})}
watch = cfg.get("watch")
last = open(watch).read() if watch else None
env.update(json.loads(last) if last else {})


class Poller:
    \"\"\"A new environment whenever the watched file changes; or a poll that never returns.\"\"\"

    failures = 0

    def poll(self):
        global last
        if cfg.get("hang"):
            open(cfg["hang"], "w").close()
            time.sleep(3600)
        text = open(watch).read()
        if text == last:
            return None
        last = text
        if cfg.get("add_mask"):  # as --on-change signal:NAME does: new values to hide, no restart
            output.add_values(json.loads(text).values())
            open(cfg["add_mask"], "w").close()
            return None
        return {**env, **json.loads(text)}


every = RetryPolicy(base=0.05, cap=0.05) if watch else None
options = ResidentOptions(**cfg.get("options", {}), poll=every)
output = MaskedOutput(cfg["mask"]) if cfg.get("mask") else None
child = Child(cfg["argv"], options, output=output)
sys.exit(Loop(child, options).run(env, Poller() if watch else None))
"""


def child(tmp_path: Path, code: str, *args: str) -> list[str]:
    """A Python child script in tmp_path; its first argument is tmp_path."""
    path = tmp_path / f"child{len(list(tmp_path.glob('child*.py')))}.py"
    path.write_text(code)
    return [sys.executable, str(path), str(tmp_path), *args]


def driver(tmp_path: Path, argv: list[str], wrap: list[str] | None = None, **cfg: Any) -> subprocess.Popen[bytes]:
    (tmp_path / "driver.py").write_text(DRIVER)
    kw: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **cfg.pop("popen", {})}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    config = json.dumps({"argv": argv, **cfg})
    return subprocess.Popen([*(wrap or []), sys.executable, str(tmp_path / "driver.py"), config], env=env, **kw)


def children(pid: int) -> dict[int, str]:
    """The children of pid and their states (R, S, Z...), from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid:
            found[int(entry.name)] = state
    return found


def gone(pid: int) -> bool:
    """No longer running: reaped, or a zombie waiting for someone else."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


# In-process: no signals sent, so the test process's own handlers are enough.


def run_in_process(code: str, options: ResidentOptions | None = None, poller: Any = None, *args: str) -> int:
    options = options or ResidentOptions()
    return Loop(Child([sys.executable, "-c", code, *args], options), options).run(dict(os.environ), poller)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("pass", 0),
        ("raise SystemExit(3)", 3),
        ("import os, signal; os.kill(os.getpid(), signal.SIGUSR2)", 128 + signal.SIGUSR2),
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", 137),
    ],
)
def test_exit_status(code: str, status: int) -> None:
    assert run_in_process(code) == status


def test_handlers_are_given_back() -> None:
    handled = {*FORWARDED_SIGNALS, *ENDING_SIGNALS, signal.SIGCHLD}
    before = {s: signal.getsignal(s) for s in handled}
    seen = {}

    class Poller:
        failures = 0

        def poll(self) -> None:
            seen.update({s: signal.getsignal(s) for s in before})
            return None

    code = "import time; time.sleep(0.3)"
    assert run_in_process(code, ResidentOptions(poll=RetryPolicy(base=0.05, cap=0.05)), Poller()) == 0
    assert seen and seen[signal.SIGINT] is not before[signal.SIGINT]  # installed while it ran
    assert seen[signal.SIGALRM] is not before[signal.SIGALRM] and seen[signal.SIGRTMIN] is not before[signal.SIGRTMIN]
    assert {s: signal.getsignal(s) for s in before} == before


class Failing:
    """A poll that always fails, and says when it was called; once it was called ``polls`` times, the child exits."""

    def __init__(self, stop: Path, polls: int) -> None:
        self.stop, self.polls = stop, polls
        self.failures = 0
        self.times: list[float] = []

    def poll(self) -> Mapping[str, str] | None:
        self.times.append(time.monotonic())
        self.failures += 1
        if len(self.times) == self.polls:
            self.stop.touch()
        return None


def test_each_failed_poll_doubles_the_wait_up_to_the_cap(tmp_path: Path) -> None:
    policy = RetryPolicy(base=0.05, cap=0.2)
    poller = Failing(tmp_path / "stop", polls=5)
    code = "import os, sys, time\nwhile not os.path.exists(sys.argv[1]): time.sleep(0.01)"
    started = time.monotonic()
    assert run_in_process(code, ResidentOptions(poll=policy), poller, str(poller.stop)) == 0
    waits = [b - a for a, b in itertools.pairwise([started, *poller.times])]
    assert len(waits) == 5
    for failures, wait in enumerate(waits):  # never sooner than the policy says (later: a busy machine)
        assert wait >= policy.backed_off(failures) - 0.005, (failures, waits)


def test_an_exception_from_a_poll_stops_the_child_and_propagates(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"

    class Broken:
        failures = 0

        def poll(self) -> None:
            wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="the child's pid")  # not stopped early
            raise ValueError("a bug in the poll")

    code = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(60)"
    with pytest.raises(ValueError, match="a bug in the poll"):
        run_in_process(code, ResidentOptions(poll=RetryPolicy(base=0.2, cap=0.2)), Broken(), str(pid_file))
    assert gone(int(pid_file.read_text()))


# Through the driver: envinject's process receives the signals.

SIGNAL_CHILD = """
import os, signal, sys, time
def got(signum, frame):
    open(sys.argv[1] + "/got", "w").write(str(signum))
    os._exit(7)
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGWINCH):
    signal.signal(s, got)
open(sys.argv[1] + "/ready", "w").close()
time.sleep(60)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGWINCH])
def test_signals_reach_the_child(tmp_path: Path, signum: signal.Signals) -> None:
    proc = driver(tmp_path, child(tmp_path, SIGNAL_CHILD))
    wait_for((tmp_path / "ready").exists, what="child ready")
    proc.send_signal(signum)
    assert proc.wait(10) == 7
    assert (tmp_path / "got").read_text() == str(int(signum))


STUBBORN_CHILD = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen(["sleep", "60"])  # same process group; inherits the ignored SIGTERM
open(sys.argv[1] + "/grandchild", "w").write(str(grandchild.pid))
open(sys.argv[1] + "/ready", "w").close()
time.sleep(60)
"""


def test_a_child_ignoring_sigterm_is_killed_with_its_group(tmp_path: Path) -> None:
    proc = driver(tmp_path, child(tmp_path, STUBBORN_CHILD), options={"kill_timeout": 1})
    wait_for((tmp_path / "ready").exists, what="child ready")
    asked = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 128 + signal.SIGKILL
    assert time.monotonic() - asked >= 0.9  # it did wait for kill_timeout first
    grandchild = int((tmp_path / "grandchild").read_text())
    wait_for(lambda: gone(grandchild), what="grandchild killed")


MASK = [SECRET, "true"]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        pytest.param(
            f"print('token={SECRET} true', flush=True); print('err {SECRET}', file=sys.stderr)",
            (b"token=***** true\n", b"err *****\n"),
            id="whole",
        ),
        pytest.param(
            f"for b in '<{SECRET}>\\n':\n    sys.stdout.write(b); sys.stdout.flush(); time.sleep(0.003)",
            (b"<*****>\n", b""),
            id="byte-by-byte",
        ),
        pytest.param(
            f"sys.stdout.write('a {SECRET[:5]}'); sys.stdout.flush(); time.sleep(0.2); print('{SECRET[5:]} b')",
            (b"a ***** b\n", b""),
            id="split",
        ),
    ],
)
def test_masking(tmp_path: Path, code: str, expected: tuple[bytes, bytes]) -> None:
    proc = driver(tmp_path, child(tmp_path, "import sys, time\n" + code), mask=MASK)
    assert proc.communicate(timeout=10) == expected
    assert proc.returncode == 0


PROMPT_CHILD = f"""
import os, sys, time
print("hello", flush=True)
while not os.path.exists(sys.argv[1] + "/go"):
    time.sleep(0.01)
print("{SECRET} bye")
"""


def test_a_flushed_line_appears_at_once(tmp_path: Path) -> None:
    proc = driver(tmp_path, child(tmp_path, PROMPT_CHILD), mask=MASK)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 5)
    assert ready, "the flushed line did not come through"
    assert proc.stdout.readline() == b"hello\n"
    (tmp_path / "go").touch()
    assert proc.communicate(timeout=10)[0] == b"***** bye\n"


FLOOD_CHILD = f"""
import sys
line = b"x" * 1000 + b"\\n"
sys.stderr.buffer.write(line * 2000)  # 2 MB on stderr first: stdout must not wait for it
for i in range(10):
    sys.stdout.buffer.write(line * 1000 + b"{SECRET}\\n")
"""


def test_ten_megabytes_without_deadlock(tmp_path: Path) -> None:
    proc = driver(tmp_path, child(tmp_path, FLOOD_CHILD), mask=MASK)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert len(err) == 2_002_000
    assert out.count(b"*****\n") == 10
    assert SECRET.encode() not in out
    assert len(out) == 10 * (1_001_000 + 6)


def test_all_output_is_copied_before_the_driver_exits(tmp_path: Path) -> None:
    # More than the two pipes hold: when the child exits, the copy is still blocked on our slow reading.
    code = "import sys; sys.stdout.buffer.write(b'y' * 120_000); open(sys.argv[1] + '/done', 'w').close()"
    proc = driver(tmp_path, child(tmp_path, code), mask=MASK)
    wait_for((tmp_path / "done").exists, what="child done")
    time.sleep(0.3)
    out, _ = proc.communicate(timeout=10)
    assert out == b"y" * 120_000


@pytest.mark.parametrize("mask", [None, MASK], ids=["direct", "masked"])
def test_stdin_stays_connected(tmp_path: Path, mask: list[str] | None) -> None:
    code = "import sys; data = sys.stdin.read(); print(len(data), data.upper(), end='')"
    proc = driver(tmp_path, child(tmp_path, code), mask=mask, popen={"stdin": subprocess.PIPE})
    out, _ = proc.communicate(b"piped in\n", timeout=10)
    assert out == b"9 PIPED IN\n"


WATCH_CHILD = """
import os, sys, time
with open(sys.argv[1] + "/seen", "a") as f:
    f.write(f"{os.environ['VERSION']} {os.getpid()}\\n")
time.sleep(60)
"""


READER_CHILD = """
import sys, time
while True:
    value = open(sys.argv[1] + "/secret").read()
    print(len(value), value, flush=True)
    time.sleep(0.02)
"""


def test_values_added_by_a_poll_are_hidden_in_the_running_childs_output(tmp_path: Path) -> None:
    watch, added, secret = tmp_path / "env.json", tmp_path / "added", tmp_path / "secret"
    watch.write_text("{}")
    secret.write_text(SECRET)
    proc = driver(tmp_path, child(tmp_path, READER_CHILD), watch=str(watch), mask=MASK, add_mask=str(added))
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"12 *****\n"
    put(watch, '{"NEW": "rotated-s3cr3t"}')
    wait_for(added.exists, what="the new value added")
    put(secret, "rotated-s3cr3t")  # the same child reads it: no restart
    lines = [proc.stdout.readline()]
    while lines[-1] != b"14 *****\n":
        assert len(lines) < 500 and lines[-1] == b"12 *****\n", lines[-1]
        lines.append(proc.stdout.readline())
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=10)
    assert b"s3cr3t" not in out
    assert proc.returncode == 128 + signal.SIGTERM


def test_restart_when_poll_returns_a_new_environment(tmp_path: Path) -> None:
    watch, seen = tmp_path / "env.json", tmp_path / "seen"
    watch.write_text('{"VERSION": "v1"}')
    proc = driver(tmp_path, child(tmp_path, WATCH_CHILD), watch=str(watch))
    wait_for(lambda: seen.exists() and seen.read_text(), what="first child")
    watch.write_text('{"VERSION": "v2"}')
    wait_for(lambda: len(seen.read_text().splitlines()) == 2, what="restart within 5 s")
    (v1, pid1), (v2, _) = (line.split() for line in seen.read_text().splitlines())
    assert (v1, v2) == ("v1", "v2")
    assert gone(int(pid1))
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 128 + signal.SIGTERM
    assert len(seen.read_text().splitlines()) == 2


def test_restart_on_exit_until_a_stop_signal(tmp_path: Path) -> None:
    code = "import sys, time; open(sys.argv[1] + '/starts', 'a').write('.'); time.sleep(0.1)"
    proc = driver(tmp_path, child(tmp_path, code), options={"restart_on_exit": True})
    starts = tmp_path / "starts"
    wait_for(lambda: starts.exists() and len(starts.read_text()) >= 2, what="a restart")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) in (0, 128 + signal.SIGTERM)  # stopped in a run, or between two


ORPHAN_CHILD = """
import os, sys, time
here, parent = sys.argv[1], os.getppid()  # parent: the driver
if os.fork() == 0:
    if os.fork() == 0:
        # The grandchild: orphaned when the middle process exits, so re-parented to the driver.
        while os.getppid() != parent:
            time.sleep(0.01)
        open(here + "/orphaned", "w").close()
        while not os.path.exists(here + "/go"):
            time.sleep(0.01)
        os._exit(0)
    os._exit(0)
os.wait()
time.sleep(60)  # no handler: SIGTERM's default action ends it
"""


def check_orphan_reaped(tmp_path: Path, driver_pid: int) -> None:
    wait_for((tmp_path / "orphaned").exists, what="grandchild re-parented")
    assert len(children(driver_pid)) == 2  # the child and the orphan
    (tmp_path / "go").touch()
    wait_for(lambda: list(children(driver_pid).values()) in (["S"], ["R"]), what="orphan reaped, no zombie")


def test_an_orphaned_grandchild_is_reaped(tmp_path: Path) -> None:
    proc = driver(tmp_path, child(tmp_path, ORPHAN_CHILD), options={"reap_orphans": True})
    check_orphan_reaped(tmp_path, proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 128 + signal.SIGTERM


@cache
def no_pid_namespace() -> str:
    """Why the driver cannot be PID 1 of a new PID namespace here, or "" when it can."""
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    try:
        probe = subprocess.run(
            ["unshare", "--pid", "--fork", "--mount-proc", "true"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unshare failed: {e}"
    return f"unshare --pid needs privileges this machine lacks: {probe.stderr.strip()}" if probe.returncode else ""


def test_as_pid_1(tmp_path: Path) -> None:
    if no_pid_namespace():
        pytest.skip(no_pid_namespace())
    wrap = ["unshare", "--pid", "--fork", "--mount-proc"]
    proc = driver(tmp_path, child(tmp_path, ORPHAN_CHILD), wrap=wrap)  # reap_orphans: None, PID 1 decides
    driver_pid = wait_for(lambda: next(iter(children(proc.pid)), None), what="driver in the namespace")
    check_orphan_reaped(tmp_path, driver_pid)
    # PID 1 gets no signal it has no handler for; the driver forwards SIGTERM to a child without one.
    os.kill(driver_pid, signal.SIGTERM)
    assert proc.wait(10) == 128 + signal.SIGTERM


def put(path: Path, text: str) -> None:
    """Replace the file at once: the driver must never read half of it."""
    (path.parent / "next").write_text(text)
    (path.parent / "next").replace(path)


def test_a_stop_signal_does_not_wait_for_a_hung_poll(tmp_path: Path) -> None:
    watch, hung = tmp_path / "env.json", tmp_path / "hung"
    watch.write_text('{"VERSION": "v1"}')
    proc = driver(tmp_path, child(tmp_path, WATCH_CHILD), watch=str(watch), hang=str(hung))
    wait_for(hung.exists, what="a hung poll")
    proc.send_signal(signal.SIGTERM)
    # The poll sleeps for an hour; the child's status comes back as soon as the child is gone.
    assert proc.wait(10) == 128 + signal.SIGTERM


def test_the_child_exiting_does_not_wait_for_a_hung_poll(tmp_path: Path) -> None:
    watch, hung = tmp_path / "env.json", tmp_path / "hung"
    watch.write_text("{}")
    code = "import os, sys, time\nwhile not os.path.exists(sys.argv[1] + '/hung'): time.sleep(0.01)\nsys.exit(7)"
    proc = driver(tmp_path, child(tmp_path, code), watch=str(watch), hang=str(hung))
    assert proc.wait(10) == 7


@pytest.mark.parametrize(
    ("new", "reason"),
    [
        ({"VERSION": "v2", "BIG": "x" * 200_000}, "MAX_ARG_STRLEN"),
        ({"VERSION": "v2\ud800"}, "lone surrogate"),
    ],
)
def test_an_environment_that_cannot_be_execd_keeps_the_child(tmp_path: Path, new: dict[str, str], reason: str) -> None:
    watch, seen = tmp_path / "env.json", tmp_path / "seen"
    watch.write_text('{"VERSION": "v1"}')
    proc = driver(tmp_path, child(tmp_path, WATCH_CHILD), watch=str(watch))
    wait_for(lambda: seen.exists() and seen.read_text(), what="first child")
    put(watch, json.dumps(new))
    time.sleep(0.5)  # ten polls
    put(watch, '{"VERSION": "v3"}')
    wait_for(lambda: len(seen.read_text().splitlines()) == 2, what="a restart with a usable environment")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 128 + signal.SIGTERM
    assert [line.split()[0] for line in seen.read_text().splitlines()] == ["v1", "v3"]
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert err.count("the new environment cannot be used") == 1, err
    assert reason in err and "the command keeps running" in err
    assert "xxxxxxxx" not in err


def test_a_restart_that_fails_falls_back_and_backs_off(tmp_path: Path) -> None:
    watch, seen, bin_dir = tmp_path / "env.json", tmp_path / "seen", tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / "watched-child"

    def install() -> None:
        program.write_text(f"#!{sys.executable}\n{WATCH_CHILD}")
        program.chmod(0o755)

    install()
    watch.write_text('{"VERSION": "v1"}')
    proc = driver(tmp_path, ["watched-child", str(tmp_path)], watch=str(watch), env={"PATH": str(bin_dir)})
    versions = lambda: [line.split()[0] for line in seen.read_text().splitlines()] if seen.exists() else []  # noqa: E731
    wait_for(lambda: versions() == ["v1"], what="first child")
    # The new environment cannot find the command: the old one, which worked, starts it again.
    put(watch, json.dumps({"VERSION": "v2", "PATH": str(tmp_path / "nowhere")}))
    wait_for(lambda: versions() == ["v1", "v1"], what="a start with the previous environment")
    # Now even that fails: envinject keeps trying, and does not exit, until the command is back.
    program.unlink()
    put(watch, '{"VERSION": "v3"}')
    time.sleep(2.5)  # a try at once, then after 1 s and after 2 s more
    assert proc.poll() is None
    install()
    wait_for(lambda: versions() == ["v1", "v1", "v1"], timeout=10, what="a start once the command is back")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 128 + signal.SIGTERM
    err = proc.stderr.read().decode()
    assert "cannot start watched-child with the new environment (watched-child: command not found" in err
    assert "starting it with the previous one" in err
    assert (
        "cannot start watched-child (watched-child: command not found; check the name and PATH); next try in 1s" in err
    )
    assert "next try in 2s" in err
