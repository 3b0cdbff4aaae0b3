"""A resident envinject's memory: not dumpable, no core limit, while its command keeps its own of both, and file
secrets still open for the command. Run as an ordinary user, since root may read any process's memory anyway."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from tests.unit.test_loop import ROOT, wait_for

SPARE = 65534
AS_SPARE = ["setpriv", f"--reuid={SPARE}", f"--regid={SPARE}", "--clear-groups"]

#: keep_private, then file secrets and a Loop, as run.supervise does.
DRIVER = """
import os, sys
from envinject.resident.child import Child
from envinject.resident.loop import Loop
from envinject.resident.memory import keep_private
from envinject.resident.options import ResidentOptions
from envinject.resident.secret_files import SecretFiles

options = ResidentOptions(core_limit=keep_private())
with SecretFiles(resident=True) as files:
    path = files.write("TLS_KEY", b"canary-held-value")
    child = Child([sys.executable, sys.argv[1], sys.argv[2]], options)
    sys.exit(Loop(child, options).run({"TLS_KEY": path, "PATH": os.defpath}))
"""
#: The command: what it can open and what it is, then it waits for the test.
CHILD = """
import ctypes, json, os, resource, sys, time
here = sys.argv[1]
def can_read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None
report = {
    "pid": os.getpid(),
    "file": can_read(os.environ["TLS_KEY"]) == b"canary-held-value",
    "parent_environ": can_read(f"/proc/{os.getppid()}/environ") is not None,
    "parent_fd": can_read(f"/proc/{os.getppid()}/fd/0") is not None or os.path.exists(f"/proc/{os.getppid()}/fd/0"),
    "dumpable": ctypes.CDLL(None).prctl(3, 0, 0, 0, 0),
    "core": list(resource.getrlimit(resource.RLIMIT_CORE)),
}
open(here + "/report.tmp", "w").write(json.dumps(report))
os.rename(here + "/report.tmp", here + "/report")
while not os.path.exists(here + "/go"):
    time.sleep(0.02)
"""


@cache
def spare_python() -> str | None:
    """A Python interpreter the spare user can run (this venv's may sit in root's home), or None."""
    if os.geteuid() != 0 or not shutil.which("setpriv") or not sys.platform.startswith("linux"):
        return None
    for candidate in (sys.executable, os.path.realpath(sys.executable), shutil.which("python3"), "/usr/bin/python3"):
        if not candidate:
            continue
        # It must be able to start itself again too: the holder of file secrets is sys.executable.
        code = (
            "import subprocess, sys; assert sys.version_info >= (3, 10); subprocess.run([sys.executable], check=True)"
        )
        probe = [*AS_SPARE, candidate, "-c", code]
        if subprocess.run(probe, capture_output=True, cwd="/", stdin=subprocess.DEVNULL).returncode == 0:
            return candidate
    return None


def core_soft_limit(pid: int) -> str:
    line = next(x for x in Path(f"/proc/{pid}/limits").read_text().splitlines() if x.startswith("Max core file size"))
    return line.split()[4]


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder the spare user can reach (pytest's own are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="envinject-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(spare_python() is None, reason="needs root, setpriv and a Python another user can run")
def test_a_resident_envinject_is_not_dumpable_and_its_command_is(shared_tmp: Path) -> None:
    python = spare_python()
    assert python is not None
    tmp_path = shared_tmp
    here = tmp_path / "here"
    here.mkdir()
    here.chmod(0o777)
    for name, code in (("driver.py", DRIVER), ("child.py", CHILD)):
        (tmp_path / name).write_text(code)
    import resource

    given = (1 << 20, resource.getrlimit(resource.RLIMIT_CORE)[1])
    proc = subprocess.Popen(
        [*AS_SPARE, python, str(tmp_path / "driver.py"), str(tmp_path / "child.py"), str(here)],
        env={"PYTHONPATH": str(ROOT), "PATH": os.defpath}, cwd="/", stderr=subprocess.PIPE,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, given),
    )  # fmt: skip
    try:
        wait_for(lambda: (here / "report").exists() or proc.poll() is not None, timeout=30, what="the report")
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        report = json.loads((here / "report").read_text())
        status = Path(f"/proc/{proc.pid}/status")
        # Non-dumpable: the kernel gives its /proc files to root, though it runs as the spare user.
        uid_line = next(x for x in status.read_text().splitlines() if x.startswith("Uid:"))
        assert uid_line.split()[1:] == [str(SPARE)] * 4
        assert status.stat().st_uid == 0
        assert core_soft_limit(proc.pid) == "0"
        # Its command, the same user, reads neither its memory nor its environment nor its descriptors...
        assert report["parent_environ"] is False and report["parent_fd"] is False
        # ...yet opens its file secret (held by the holder, which holds nothing else), and is itself as usual.
        assert report["file"] is True
        assert report["dumpable"] == 1 and report["core"] == list(given)
        assert Path(f"/proc/{report['pid']}/status").stat().st_uid == SPARE
        (here / "go").touch()
        assert proc.wait(20) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        (here / "go").touch()
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_keep_private_lowers_the_soft_core_limit_only() -> None:
    code = (
        "import resource, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from envinject.resident.memory import keep_private\n"
        "resource.setrlimit(resource.RLIMIT_CORE, (4096, resource.getrlimit(resource.RLIMIT_CORE)[1]))\n"
        "given = keep_private()\n"
        "print(given[0], resource.getrlimit(resource.RLIMIT_CORE) == (0, given[1]))\n"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert shown == ["4096", "True"]
