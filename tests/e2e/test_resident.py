"""Resident modes end to end: the installed envinject with --init, --watch and --mask against moto_server."""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ENVINJECT, Result, base_env
from tests.emulator import Emulator
from tests.faults.proxy import FaultPlan, FaultProxy

Run = Callable[..., Result]
CHILD = [sys.executable, str(Path(__file__).with_name("resident_child.py"))]
TOKEN = "token-canary-one"


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def token(sm: Any) -> Any:
    sm.create_secret(Name="app", SecretString=json.dumps({"token": TOKEN}))
    return sm


def start(emulator: Emulator, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([ENVINJECT, *args], env={**base_env(emulator), **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signals_reach_the_child(token: Any, emulator: Emulator, tmp_path: Path, sig: signal.Signals) -> None:
    log = tmp_path / "log"
    p = start(emulator, "-s", "app", "--init", "--", *CHILD, str(log), "trap")
    wait_for(lambda: any(x.startswith("start") for x in lines(log)))
    p.send_signal(sig)
    if sig == signal.SIGHUP:  # the child records it and keeps running
        wait_for(lambda: any("SIGHUP" in x for x in lines(log)))
        p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=15) == 0
    assert f"signal {sig.name}" in " ".join(lines(log))
    assert "start" in lines(log)[0] and TOKEN in lines(log)[0]


def test_a_child_that_ignores_sigterm_is_killed_after_the_timeout(
    token: Any, emulator: Emulator, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    p = start(emulator, "-s", "app", "--init", "--kill-timeout", "1", "--", *CHILD, str(log), "ignore")
    wait_for(lambda: bool(lines(log)))
    p.send_signal(signal.SIGTERM)
    # envinject forwards SIGTERM; the child ignores it, so envinject waits --kill-timeout and sends SIGKILL
    assert p.wait(timeout=15) == 128 + signal.SIGKILL


@pytest.mark.parametrize("status", [0, 3, 255])
def test_exit_statuses(token: Any, run: Run, status: int) -> None:
    assert run("-s", "app", "--init", "--", "sh", "-c", f"exit {status}").returncode == status


def test_death_by_signal(token: Any, run: Run) -> None:
    assert run("-s", "app", "--init", "--", "sh", "-c", "kill -USR1 $$").returncode == 128 + signal.SIGUSR1


def test_rotation_restarts_the_child_with_the_new_value(token: Any, emulator: Emulator, tmp_path: Path) -> None:
    log = tmp_path / "log"
    p = start(emulator, "-s", "app", "--watch", "1", "--", *CHILD, str(log), "trap")
    try:
        wait_for(lambda: bool(lines(log)))
        old_pid = lines(log)[0].split()[1]
        token.put_secret_value(SecretId="app", SecretString=json.dumps({"token": "token-canary-two"}))
        wait_for(lambda: any(x.endswith("token-canary-two") for x in lines(log)), timeout=15)
        assert f"signal SIGTERM {old_pid}" in lines(log)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=15)
    err = p.stderr.read().decode() if p.stderr else ""
    assert "secret 'app' changed" in err
    assert "token-canary" not in err


def test_poll_failure_keeps_the_child(token: Any, emulator: Emulator, tmp_path: Path) -> None:
    log = tmp_path / "log"
    with FaultProxy(emulator.url) as proxy:
        p = start(emulator, "-s", "app", "--watch", "1", "--timeout", "1", "--endpoint-url", proxy.url, "--",
                  *CHILD, str(log), "trap")  # fmt: skip
        try:
            wait_for(lambda: bool(lines(log)))
            proxy.set_plan(FaultPlan(reset=1.0))
            failing = proxy.counts.total
            wait_for(lambda: proxy.counts.total >= failing + 2, timeout=15)  # failed polls
            assert len([x for x in lines(log) if x.startswith("start")]) == 1
            assert p.poll() is None
            proxy.set_plan(FaultPlan())
            proxy.reset_counts()
            # Two answered polls: the first was logged before the second was sent.
            wait_for(lambda: proxy.counts.faults["ok"] >= 2, timeout=30)
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=15)
    err = p.stderr.read().decode() if p.stderr else ""
    assert "poll failed, the command keeps running" in err
    assert "poll succeeded again" in err
    assert len([x for x in lines(log) if x.startswith("start")]) == 1


def test_mask(sm: Any, emulator: Emulator) -> None:
    secret = "sk-mask-canary-0123456789"
    sm.create_secret(Name="m", SecretString=json.dumps({"key": secret, "other": "mask-canary-0123", "short": "abc"}))
    script = (
        "import os, sys, time\n"
        "k = os.environ['KEY']\n"
        "print('whole', k, flush=True)\n"
        "for ch in k: sys.stdout.write(ch); sys.stdout.flush()\n"
        "print(flush=True)\n"
        "sys.stdout.write(k[:7]); sys.stdout.flush(); time.sleep(0.2); print(k[7:], flush=True)\n"
        "print('err', os.environ['OTHER'], os.environ['SHORT'], file=sys.stderr)\n"
        "sys.stdout.buffer.write(b'\\xff\\x00bin\\n')\n"
    )
    r = subprocess.run([ENVINJECT, "-s", "m", "--mask", "--", sys.executable, "-c", script],
                       env=base_env(emulator), capture_output=True)  # fmt: skip
    assert r.returncode == 0
    out, err = r.stdout, r.stderr
    assert secret.encode() not in out
    assert out.splitlines()[:3] == [b"whole *****", b"*****", b"*****"]
    assert b"\xff\x00bin" in out
    assert err.strip() == b"err ***** abc"


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare")
def test_as_pid_1(token: Any, emulator: Emulator, tmp_path: Path) -> None:
    log = tmp_path / "log"
    # The child installs no handler: as PID 1 it would ignore SIGTERM; under --init it is not PID 1.
    # It also leaves an orphan that exits, which envinject (PID 1) must reap.
    script = f"(sleep 0.2 &) ; echo started >> {log}; exec sleep 60"
    p = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", ENVINJECT, "-s", "app", "--init", "--",
                          "sh", "-c", script], env=base_env(emulator))  # fmt: skip
    wait_for(lambda: bool(lines(log)))
    time.sleep(1)  # the orphaned sleep has exited by now
    inner = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()
    assert inner, "envinject did not start inside the namespace"
    ns_init = inner[0]
    children = subprocess.run(["ps", "-o", "stat=,pid=", "--ppid", ns_init], capture_output=True, text=True).stdout
    assert "Z" not in children, f"a zombie was left: {children}"
    os.kill(int(ns_init), signal.SIGTERM)
    assert p.wait(timeout=15) == 128 + signal.SIGTERM


def test_mask_overlapping_values_and_ten_megabytes(sm: Any, emulator: Emulator) -> None:
    sm.create_secret(Name="o", SecretString=json.dumps({"a": "abcdef-canary", "b": "canary-xyz123", "c": "abcdef"}))
    script = (
        "import os, sys\n"
        "print(os.environ['A'] + os.environ['B'][6:], os.environ['C'] + '-other', flush=True)\n"
        "chunk = ('x' * 1023 + '\\n') * 1024\n"
        "for _ in range(10): sys.stdout.write(chunk)\n"
        "print(os.environ['B'], flush=True)\n"
    )
    r = subprocess.run([ENVINJECT, "-s", "o", "--mask", "--", sys.executable, "-c", script],
                       env=base_env(emulator), capture_output=True, timeout=60)  # fmt: skip
    assert r.returncode == 0
    out = r.stdout.splitlines()
    # "abcdef-canary-xyz123": the longest value at the leftmost position wins, then the rest is plain text.
    assert out[0] == b"*****-xyz123 *****-other"
    assert len(r.stdout) > 10 * 1024 * 1024
    assert out[-1] == b"*****"
    assert b"canary" not in r.stdout


def test_sigterm_during_a_hung_poll_exits_at_once_with_the_childs_status(
    token: Any, emulator: Emulator, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    with FaultProxy(emulator.url) as proxy:
        p = start(emulator, "-s", "app", "--watch", "1", "--kill-timeout", "2", "--endpoint-url", proxy.url, "--",
                  *CHILD, str(log), "trap")  # fmt: skip
        try:
            wait_for(lambda: bool(lines(log)))
            proxy.set_plan(FaultPlan(hang=1.0))
            wait_for(lambda: proxy.hanging >= 1)
            p.send_signal(signal.SIGTERM)
            # Before, envinject waited for the poll's connect and read timeouts, twice: 16-19 s.
            status = p.wait(timeout=8)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert status == 0  # the child's own: it exits 0 on SIGTERM
    assert any(x.startswith("signal SIGTERM") for x in lines(log))


#: Rotations that cannot be injected: (the new SecretString, a word of the reason).
UNUSABLE = {
    "deeply nested": ('{"token": ' + "[" * 5000 + '"token-canary-bad"' + "]" * 5000 + "}", "deep"),
    "lone surrogate": ('{"token": "token-canary-bad\\ud800"}', "surrogate"),
    "too large for exec": (json.dumps({"token": "token-canary-bad" + "x" * 60_000}), "ARG_MAX"),
    # This one always kept the child, but said so again on every poll.
    "not JSON": ('{"token": "token-canary-bad', "not valid JSON"),
}


@pytest.mark.parametrize("case", list(UNUSABLE))
def test_an_unusable_rotation_keeps_the_child_and_is_said_once(
    token: Any, emulator: Emulator, tmp_path: Path, case: str
) -> None:
    log = tmp_path / "log"
    secret, reason = UNUSABLE[case]
    # Inherited variables that leave 30 kB of room: enough for the first value, not for 60 kB more.
    room = os.sysconf("SC_ARG_MAX") - sum(len(k) + len(v) + 10 for k, v in base_env(emulator).items()) - 30_000
    sizes = [100_000] * (room // 100_020) + [room % 100_020 - 20]
    filler = {f"FILLER_{i}": "f" * n for i, n in enumerate(sizes)} if case == "too large for exec" else {}
    with FaultProxy(emulator.url) as proxy:  # passes everything on, and counts the polls
        p = start(emulator, "-s", "app", "--watch", "1", "--endpoint-url", proxy.url, "--", *CHILD, str(log), "trap",
                  env=filler)  # fmt: skip
        try:
            wait_for(lambda: bool(lines(log)))
            token.put_secret_value(SecretId="app", SecretString=secret)
            seen = proxy.counts.total
            wait_for(lambda: proxy.counts.total >= seen + 3, timeout=20)  # three polls or more
            assert [x.split()[0] for x in lines(log)] == ["start"]
            assert p.poll() is None
            token.put_secret_value(SecretId="app", SecretString=json.dumps({"token": "token-canary-two"}))
            wait_for(lambda: any(x.endswith("token-canary-two") for x in lines(log)), timeout=15)
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=15)
    err = p.stderr.read().decode() if p.stderr else ""
    assert err.count("secret 'app' changed but cannot be injected: ") == 1, err
    assert "; the command keeps running" in err and reason in err
    assert "secret 'app' changed; restarting the command" in err
    assert "token-canary-bad" not in err
    assert p.returncode == 0


#: Reports the command's own dumpable flag and core limit, and its pid, then waits to be stopped.
MEMORY_CHILD = """
import ctypes, json, os, resource, sys, time
report = {"pid": os.getpid(), "dumpable": ctypes.CDLL(None).prctl(3, 0, 0, 0, 0),
          "core": list(resource.getrlimit(resource.RLIMIT_CORE))}
open(sys.argv[1] + ".tmp", "w").write(json.dumps(report))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)
"""
RESIDENT_MODES = {"init": ["--init"], "watch": ["--watch", "60"], "mask": ["--mask"]}


def core_limit(pid: int) -> tuple[str, str]:
    """The soft and hard core limits of a running process, as /proc/PID/limits shows them."""
    line = next(x for x in Path(f"/proc/{pid}/limits").read_text().splitlines() if x.startswith("Max core file size"))
    soft, hard = line.split()[4:6]
    return soft, hard


def start_with_core_limit(emulator: Emulator, args: list[str], limit: tuple[int, int], cwd: Path) -> Any:
    import resource

    return subprocess.Popen([ENVINJECT, *args], env=base_env(emulator), cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, limit))  # fmt: skip


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and /proc/PID/limits are Linux's")
@pytest.mark.parametrize("mode", list(RESIDENT_MODES))
def test_a_resident_envinject_has_no_core_limit_and_the_command_keeps_its_own(
    token: Any, emulator: Emulator, tmp_path: Path, mode: str
) -> None:
    import resource

    hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
    given = (min(64 << 20, hard) if hard != resource.RLIM_INFINITY else 64 << 20, hard)
    if given[0] == 0:
        pytest.skip("the hard core limit here is 0")
    report = tmp_path / "report"
    p = start_with_core_limit(emulator, [*RESIDENT_MODES[mode], "-s", "app", "--", sys.executable, "-c",
                                         MEMORY_CHILD, str(report)], given, tmp_path)  # fmt: skip
    try:
        wait_for(report.exists, timeout=30)
        child = json.loads(report.read_text())
        shown_hard = "unlimited" if hard == resource.RLIM_INFINITY else str(hard)
        assert core_limit(p.pid) == ("0", shown_hard)  # envinject's own, while it holds the values
        assert child["core"] == list(given) and core_limit(child["pid"])[0] == str(given[0])
        assert child["dumpable"] == 1  # exec gave the command its own: only envinject is non-dumpable
    finally:
        p.send_signal(signal.SIGTERM)
        p.communicate(timeout=30)


def test_a_resident_envinject_that_crashes_leaves_no_core(token: Any, emulator: Emulator, tmp_path: Path) -> None:
    pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
    if not pattern.startswith("core") or "/" in pattern:
        pytest.skip(f"cores do not go to the working folder here (core_pattern {pattern!r})")
    import resource

    report = tmp_path / "report"
    limit = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
    if resource.getrlimit(resource.RLIMIT_CORE)[1] != resource.RLIM_INFINITY:
        pytest.skip("the hard core limit here is not unlimited")
    p = start_with_core_limit(emulator, ["--init", "-s", "app", "--", sys.executable, "-c", MEMORY_CHILD,
                                         str(report)], limit, tmp_path)  # fmt: skip
    try:
        wait_for(report.exists, timeout=30)
        # A crash: SIGSEGV keeps its default action (dump core), sent as a fault would send it.
        p.send_signal(signal.SIGSEGV)
        assert p.wait(timeout=30) == -signal.SIGSEGV
        time.sleep(0.5)
        assert [f.name for f in tmp_path.iterdir() if f.name.startswith("core")] == []
    finally:
        child = json.loads(report.read_text())["pid"] if report.exists() else None
        if child is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        if p.poll() is None:
            p.kill()
        p.communicate(timeout=30)
