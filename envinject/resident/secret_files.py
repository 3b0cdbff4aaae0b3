"""File secrets: values that a program reads from a path (a TLS key, a kubeconfig, a service-account JSON).

One small interface, :class:`SecretFiles`, for exec mode, the supervisor and ``--watch`` alike, with two
mechanisms behind it:

- ``memfd`` (Linux): each value lives in an anonymous memory file (``memfd_create``), never on a disk or in a
  folder that others can list. The variable holds ``/proc/PID/fd/N``, where PID is the process that keeps the
  descriptor open: in exec mode the command itself (exec keeps the pid and the descriptor), in the resident
  modes envinject. Its subprocesses can open the path too, and only the same user (or root) can: the kernel
  checks access to ``/proc/PID/fd``. It can be read many times and seeked, and the kernel frees it when the
  last process holding it exits. Each file is sealed, so nobody can change it; a new value is a new memory file
  put in place of the old descriptor with ``dup2``, so a reader opens either the old content or the new, whole.
- ``folder`` (where memfd_create is missing): 0600 files in a fresh 0700 folder under ``$XDG_RUNTIME_DIR``
  (else the temp folder), rewritten through a temp file and a rename. Someone must delete the folder when the
  command exits, so this needs a resident mode (``--init``); exec mode refuses instead of leaving secrets behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import replace
from types import TracebackType

from ..errors import ConfigError, EnvinjectError
from ..rules.environment import Binding


class FileSecretError(EnvinjectError):
    """A file secret that could not be made."""


class SecretFiles:
    """The files of one run, by variable name. ``resident``: envinject stays the command's parent (it holds the
    files and deletes them at the end); otherwise the command inherits them across exec."""

    def __init__(self, *, resident: bool, memfd: bool | None = None) -> None:
        self.resident = resident
        self.memfd = _memfd_works() if memfd is None else memfd
        self._fds: dict[str, int] = {}
        #: Each variable's path, the same for as long as the files live.
        self._paths: dict[str, str] = {}
        self._folder: str | None = None
        if not self.memfd and not resident:
            raise ConfigError(
                "file secrets need memfd_create (Linux) in exec mode, and this system has none",
                hint="add --init, so envinject stays to delete the files when the command exits",
            )

    @property
    def mechanism(self) -> str:
        return "memfd" if self.memfd else f"folder {self._folder or '(not made yet)'}"

    def with_paths(self, bindings: Iterable[Binding]) -> list[Binding]:
        """The bindings with each file secret's value set to the path it has (or will have), writing nothing."""
        return [b if b.content is None else replace(b, value=self._paths.get(b.name, "")) for b in bindings]

    def place(self, bindings: Iterable[Binding]) -> list[Binding]:
        """The bindings with each file secret's content written and its value set to the file's path."""
        return [b if b.content is None else replace(b, value=self.write(b.name, b.content)) for b in bindings]

    def write(self, name: str, content: bytes) -> str:
        """Create ``name``'s file, or replace its content atomically; returns its path (the same each time)."""
        try:
            path = self._write_memfd(name, content) if self.memfd else self._write_folder(name, content)
        except OSError as e:
            raise FileSecretError(f"cannot make the file for {name}: {e.strerror or type(e).__name__}") from None
        self._paths[name] = path
        return path

    def _write_memfd(self, name: str, content: bytes) -> str:
        flags = os.MFD_ALLOW_SEALING | (os.MFD_CLOEXEC if self.resident else 0)
        fd = os.memfd_create(f"envinject:{name}", flags)
        try:
            _write_all(fd, content)
            os.lseek(fd, 0, os.SEEK_SET)
            import fcntl

            fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE
                        | fcntl.F_SEAL_SEAL)  # fmt: skip
            if name in self._fds:  # the same descriptor number now names the new file: one atomic step
                os.dup2(fd, self._fds[name], inheritable=not self.resident)
                os.close(fd)
            else:
                os.set_inheritable(fd, not self.resident)
                self._fds[name] = fd
        except BaseException:
            if self._fds.get(name) != fd:
                os.close(fd)
            raise
        return f"/proc/{os.getpid()}/fd/{self._fds[name]}"

    def _write_folder(self, name: str, content: bytes) -> str:
        if self._folder is None:
            base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
            self._folder = tempfile.mkdtemp(prefix="envinject-", dir=base)  # 0700
        path = os.path.join(self._folder, name)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=self._folder)  # 0600
        try:
            _write_all(fd, content)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        return path

    def close(self) -> None:
        """Let go of the files: the descriptors are closed and the folder, if any, deleted."""
        for fd in self._fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds.clear()
        self._paths.clear()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> SecretFiles:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _memfd_works() -> bool:
    """memfd_create exists and the kernel has it (it is missing on macOS and before Linux 3.17)."""
    if not hasattr(os, "memfd_create"):
        return False
    try:
        os.close(os.memfd_create("envinject-probe", os.MFD_CLOEXEC))
    except OSError:
        return False
    return True
