import errno
import fnmatch
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from envinject.errors import EnvinjectError
from envinject.system.output_files import FileWriteError, git_unignored, write_private

SECRET = "TOKEN='s3cr3t'\r\nPEM=\"a\\nb\"\n😀\n"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o077, 0o777])
def test_new_file_is_0600_whatever_the_umask(tmp_path: Path, umask: None, mask: int) -> None:
    os.umask(mask)
    target = tmp_path / ".env"
    write_private(target, SECRET, force=False)
    assert mode(target) == 0o600
    assert target.read_bytes() == SECRET.encode()  # byte for byte: no newline translation
    assert os.listdir(tmp_path) == [".env"]


def test_private_before_the_first_byte(tmp_path: Path, umask: None, monkeypatch: pytest.MonkeyPatch) -> None:
    os.umask(0)
    real_write = os.write
    modes: list[int] = []

    def spy(fd: int, data: bytes) -> int:
        modes.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", spy)
    write_private(tmp_path / "out.env", SECRET, force=False)
    assert modes and set(modes) == {0o600}


def test_existing_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "prod.env"
    target.write_text("keep me")
    with pytest.raises(FileWriteError) as e:
        write_private(target, SECRET, force=False)
    assert isinstance(e.value, EnvinjectError)
    assert e.value.message == f"{target} already exists"
    assert e.value.hint == "--force to overwrite"
    assert target.read_text() == "keep me"
    assert os.listdir(tmp_path) == ["prod.env"]


def test_force_overwrites_and_tightens_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "prod.env"
    target.write_text("old")
    target.chmod(0o644)
    write_private(target, SECRET, force=True)
    assert target.read_bytes() == SECRET.encode()
    assert mode(target) == 0o600
    assert os.listdir(tmp_path) == ["prod.env"]


def test_symlink_is_refused_even_with_force_and_never_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("not yours")
    link = tmp_path / "link.env"
    link.symlink_to(elsewhere)
    dangling = tmp_path / "dangling.env"
    dangling.symlink_to(tmp_path / "missing")
    for target in (link, dangling):
        for force in (False, True):
            with pytest.raises(FileWriteError) as e:
                write_private(target, SECRET, force=force)
            assert e.value.message == f"{target} is a symbolic link, not a regular file"
    assert link.is_symlink() and dangling.is_symlink()
    assert elsewhere.read_text() == "not yours"
    assert sorted(os.listdir(tmp_path)) == ["dangling.env", "elsewhere", "link.env"]


@pytest.mark.parametrize("force", [False, True])
def test_devices_fifos_and_stdout_links_are_never_replaced(tmp_path: Path, force: bool) -> None:
    # Never the machine's own /dev/null: a regression would replace it. A copy of it, made here, instead.
    null, fifo, folder = tmp_path / "null", tmp_path / "pipe", tmp_path / "folder"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.mkfifo(fifo)
    folder.mkdir()
    cases = {
        null: "a character device",
        fifo: "a named pipe (FIFO)",
        Path("/proc/self/fd/1"): "a symbolic link",
        folder: "a directory",
    }
    for target, kind in cases.items():
        with pytest.raises(FileWriteError) as e:
            write_private(target, SECRET, force=force)
        assert e.value.message == f"{target} is {kind}, not a regular file"
        assert e.value.hint is not None and "-o -" in e.value.hint
    assert stat.S_ISCHR(null.lstat().st_mode)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(os.listdir(tmp_path)) == ["folder", "null", "pipe"]


def test_temp_file_is_beside_the_target_and_named_after_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open
    opened: list[str] = []

    def spy(path: str | bytes, flags: int, mode: int = 0o777) -> int:
        opened.append(os.fsdecode(path))
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", spy)
    write_private(tmp_path / "prod.env", SECRET, force=False)
    tmp = Path(opened[0])
    assert tmp.parent == tmp_path
    assert fnmatch.fnmatch(tmp.name, "prod.env*")  # a .gitignore entry prod.env* covers a leftover
    assert os.listdir(tmp_path) == ["prod.env"]


@pytest.mark.parametrize("length", [240, 255])
def test_a_long_name_can_be_written(tmp_path: Path, length: int) -> None:
    target = tmp_path / ("n" * length)
    write_private(target, SECRET, force=False)
    assert target.read_bytes() == SECRET.encode()
    assert os.listdir(tmp_path) == [target.name]


_KILLED_WHILE_WRITING = """
import os, signal, sys
from envinject.system.output_files import write_private
def fsync(fd):  # the file is written and not yet renamed: the worst moment for a signal
    os.kill(os.getpid(), getattr(signal, sys.argv[2]))
os.fsync = fsync
write_private(sys.argv[1], "TOKEN=sk-canary\\n" * 1000, force=False)
"""


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT", "SIGHUP"])
def test_a_signal_while_writing_removes_the_temp_file(tmp_path: Path, name: str) -> None:
    target = tmp_path / "prod.env"
    p = subprocess.run([sys.executable, "-c", _KILLED_WHILE_WRITING, str(target), name], capture_output=True)
    assert p.returncode == -getattr(signal, name), p.stderr  # ended by the signal, as without a handler
    assert os.listdir(tmp_path) == []
    assert b"canary" not in p.stderr


def failing_write(fd: int, data: bytes) -> int:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("force", [False, True])
def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, force: bool) -> None:
    target = tmp_path / "out.env"
    if force:
        target.write_text("previous")
    monkeypatch.setattr(os, "write", failing_write)
    with pytest.raises(FileWriteError) as e:
        write_private(target, SECRET, force=force)
    assert e.value.message == f"cannot write {target}: No space left on device"
    assert os.listdir(tmp_path) == (["out.env"] if force else [])
    if force:
        assert target.read_text() == "previous"


def test_any_failure_removes_the_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_private(tmp_path / "out.env", SECRET, force=False)
    assert os.listdir(tmp_path) == []


def test_failed_rename_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_replace(src: object, dst: object) -> None:
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

    monkeypatch.setattr(os, "replace", failing_replace)
    target = tmp_path / "out.env"
    with pytest.raises(FileWriteError, match=f"^cannot write {target}: Invalid cross-device link$"):
        write_private(target, SECRET, force=True)
    assert os.listdir(tmp_path) == []


def test_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "out.env"
    with pytest.raises(FileWriteError, match="No such file or directory"):
        write_private(target, SECRET, force=False)
    assert os.listdir(tmp_path) == []


def test_text_that_is_not_unicode_is_refused_without_quoting_it(tmp_path: Path) -> None:
    with pytest.raises(FileWriteError) as e:
        write_private(tmp_path / "out.env", "A=\ud800x", force=False)
    assert "\ud800" not in str(e.value) and "U+" not in str(e.value)
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------------------------------------
# git


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Keep the developer's git configuration (a global excludes file...) and any outer repository out.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def test_unignored_file_in_a_repo(repo: Path) -> None:
    assert git_unignored(repo / ".env") is True  # need not exist yet
    (repo / "sub").mkdir()
    assert git_unignored(repo / "sub" / "prod.env") is True


def test_ignored_file(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / ".gitignore").write_text("*.env\n.env\n")
    (repo / "sub").mkdir()
    assert git_unignored(repo / ".env") is False
    assert git_unignored(repo / "sub" / "prod.env") is False
    assert git_unignored(repo / "settings.json") is True
    monkeypatch.chdir(repo / "sub")
    assert git_unignored("prod.env") is False
    assert git_unignored("../x.json") is True


def test_outside_a_repo(repo: Path) -> None:
    outside = repo.parent / "outside"
    outside.mkdir()
    assert git_unignored(outside / ".env") is False
    assert git_unignored(repo / ".git" / "x.env") is False  # inside .git is not the work tree
    assert git_unignored(repo / "missing-folder" / "x.env") is False


def test_without_git(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(repo.parent / "empty"))
    assert git_unignored(repo / ".env") is False
