"""File secrets: memory files held by a holder process that holds nothing else, and the folder fallback's place."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from envinject.errors import EnvinjectError
from envinject.resident.secret_files import FileSecretError, SecretFiles, folder_base
from tests.unit.test_loop import ROOT, gone, wait_for

needs_memfd = pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="memfd_create is Linux's")


def holder_of(path: str) -> int:
    return int(path.split("/")[2])


def memfds_held(pid: int) -> list[str]:
    """The envinject memory files a process holds a descriptor of."""
    held = []
    for entry in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(entry)
        except OSError:
            continue
        if target.startswith("/memfd:envinject:"):
            held.append(target)
    return held


@needs_memfd
@pytest.mark.parametrize("resident", [True, False])
def test_the_holder_holds_the_files_and_nobody_else_does(resident: bool) -> None:
    files = SecretFiles(resident=resident)
    try:
        path = files.write("TLS_KEY", b"canary-one\x00\xff")
        holder = holder_of(path)
        assert holder != os.getpid() and path.startswith(f"/proc/{holder}/fd/")
        assert Path(path).read_bytes() == b"canary-one\x00\xff"
        assert memfds_held(os.getpid()) == []  # envinject let go of its own descriptor
        assert memfds_held(holder) == ["/memfd:envinject:TLS_KEY (deleted)"]
        # The holder is a fresh interpreter with an empty environment: nothing of the run's reaches it.
        assert Path(f"/proc/{holder}/environ").read_bytes() == b""
        # It left its parent at once: never a child of the command it serves.
        assert int(Path(f"/proc/{holder}/stat").read_text().rsplit(")", 1)[1].split()[1]) != os.getpid()
    finally:
        files.close()
    wait_for(lambda: gone(holder), what="the holder to end once the files are let go of")


@needs_memfd
def test_a_rewrite_keeps_the_path_and_replaces_the_content_whole() -> None:
    with SecretFiles(resident=True) as files:
        first = files.write("K", b"first-canary")
        second = files.write("K", b"second-canary-longer")
        assert first == second
        assert Path(first).read_bytes() == b"second-canary-longer"
        other = files.write("L", b"other")
        assert holder_of(other) == holder_of(first) and other != first
        assert len(memfds_held(holder_of(first))) == 2


@needs_memfd
def test_the_files_are_sealed() -> None:
    with SecretFiles(resident=True) as files:
        path = files.write("K", b"sealed")
        fd = os.open(path, os.O_RDWR)  # opening for writing works; no write does
        try:
            with pytest.raises(PermissionError):
                os.write(fd, b"x")
        finally:
            os.close(fd)
        assert Path(path).read_bytes() == b"sealed"


#: A process that makes file secrets as exec mode does (resident=False, never closed) and exits.
SERVED = """
import sys
from envinject.resident.secret_files import SecretFiles
files = SecretFiles(resident=False)
print(files.write("K", b"served-canary"), flush=True)
sys.stdin.read()  # until the test says so
"""


@needs_memfd
def test_in_exec_mode_the_files_live_as_long_as_the_process_they_serve() -> None:
    proc = subprocess.Popen([sys.executable, "-c", SERVED], env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    assert proc.stdout is not None and proc.stdin is not None
    path = proc.stdout.readline().decode().strip()
    assert Path(path).read_bytes() == b"served-canary"
    time.sleep(0.2)
    assert Path(path).read_bytes() == b"served-canary"  # the served process runs: the file stays
    proc.stdin.close()
    proc.wait(10)
    wait_for(lambda: gone(holder_of(path)), what="the holder to end with the process it serves")
    assert not Path(path).exists()


def test_without_pidfd_the_holder_watches_the_served_process_by_its_start_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # Kernels before 5.3 (or a seccomp profile that refuses pidfd_open): /proc/PID/stat, a reused pid told apart.
    from envinject.resident import holder

    monkeypatch.delattr(os, "pidfd_open", raising=False)
    served = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    assert served.stdin is not None
    exited = holder._Exit(served.pid)
    assert exited.fd is None and not exited.happened([])
    served.stdin.close()
    served.wait(10)
    assert exited.happened([])


@needs_memfd
def test_a_holder_that_died_is_a_clear_error() -> None:
    with SecretFiles(resident=True) as files:
        path = files.write("K", b"x")
        os.kill(holder_of(path), 9)
        wait_for(lambda: gone(holder_of(path)), what="the holder to die")
        with pytest.raises(EnvinjectError) as e:
            files.write("K", b"canary-new")
        assert "K" in str(e.value) and "canary" not in str(e.value)


def test_the_folder_goes_on_a_memory_file_system_only_you_can_change(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o700)
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # anyone could rename our folder away and put theirs in its place
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    assert folder_base({"XDG_RUNTIME_DIR": str(mine)}) == str(mine)
    assert folder_base({"XDG_RUNTIME_DIR": str(sticky)}) == str(sticky)
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and not stat.S_IWOTH & ~os.stat("/dev/shm").st_mode else None
    fallback = folder_base({})
    for hostile in (str(shared), "relative/path", str(tmp_path / "missing"), str(tmp_path / "file")):
        (tmp_path / "file").touch()
        assert folder_base({"XDG_RUNTIME_DIR": hostile}) == fallback
    if shm is not None:
        assert fallback == "/dev/shm"


def test_no_private_folder_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setattr("tempfile.gettempdir", lambda: str(shared))
    monkeypatch.setattr("os.path.isabs", lambda p: p == str(shared))  # /dev/shm counts as missing
    with pytest.raises(FileSecretError, match="no private folder"):
        folder_base({"XDG_RUNTIME_DIR": str(shared)})


def test_exec_mode_without_memfd_refuses() -> None:
    with pytest.raises(EnvinjectError, match="--init"):
        SecretFiles(resident=False, memfd=False)


def test_the_holder_program_imports_only_the_standard_library() -> None:
    # It runs with -I -S and an empty environment: envinject's own modules and site-packages are out of reach.
    source = (ROOT / "envinject" / "resident" / "holder.py").read_text()
    imported = {line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))}
    assert imported <= {"__future__", "os", "select", "socket", "sys"}
