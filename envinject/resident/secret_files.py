"""File secrets: values that a program reads from a path (a TLS key, a kubeconfig, a service-account JSON).

One small interface, :class:`SecretFiles`, for exec mode, the supervisor and ``--watch`` alike, with two
mechanisms behind it:

- ``memfd`` (Linux): each value lives in an anonymous memory file (``memfd_create``), never on a disk or in a
  folder that others can list, held open by a holder process (:mod:`.holder`) that holds nothing else and ends
  when the process it serves ends: the command in exec mode, envinject in the resident modes. The variable holds
  ``/proc/HOLDER/fd/N``. No other process holds a descriptor of it, so nothing the command starts inherits one
  (not after ``env -i``, not after changing its user): it opens the path, and only the holder's user (or root)
  can, since the kernel checks access to ``/proc/PID/fd``. It can be read many times and seeked. Each file is
  sealed, so nobody can change it; a new value is a new memory file put in place of the old descriptor with
  ``dup2``, so a reader opens either the old content or the new, whole. (The holder exists because a resident
  envinject makes itself non-dumpable, which closes its own ``/proc/PID/fd`` to the command; and because a
  descriptor the command inherited would reach everything it starts.)
- ``folder`` (where memfd_create is missing): 0600 files in a fresh 0700 folder on a memory file system where
  there is one (``$XDG_RUNTIME_DIR``, ``/dev/shm``), else in the temp folder, rewritten through a temp file and a
  rename; a base folder others could replace things in is skipped. Someone must delete the folder when the
  command exits, so this needs a resident mode (``--init``); exec mode refuses instead of leaving secrets behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType

from ..errors import ConfigError, EnvinjectError
from ..records import replace
from ..rules.environment import Binding
from ..system.trust import untrusted_folder

#: The holder's program, run by path (see :mod:`.holder`).
HOLDER = str(Path(__file__).with_name("holder.py"))
#: How long to wait for the holder's answer, in seconds.
_HOLDER_TIMEOUT = 30.0


class FileSecretError(EnvinjectError):
    """A file secret that could not be made."""


class SecretFiles:
    """The files of one run, by variable name. ``resident``: envinject stays the command's parent (it deletes a
    folder at the end); otherwise it execs the command, and only memory files, which need no deleting, will do."""

    def __init__(self, *, resident: bool, memfd: bool | None = None) -> None:
        self.resident = resident
        self.memfd = _memfd_works() if memfd is None else memfd
        self._holder: _Holder | None = None
        #: Each memory file's descriptor number in the holder.
        self._slots: dict[str, int] = {}
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
        if self.memfd:
            return f"memfd, held by process {self._holder.pid}" if self._holder is not None else "memfd"
        return f"folder {self._folder or '(not made yet)'}"

    def start(self) -> None:
        """Start the holder process now, without waiting for it, so that it is ready when the first file is written
        (a run starts it before it fetches the secrets). Nothing without memfd."""
        if self.memfd and self._holder is None:
            try:
                self._holder = _Holder()
            except OSError as e:
                raise FileSecretError(f"cannot start the holder of file secrets: {e.strerror}") from None

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
        except FileSecretError as e:
            raise FileSecretError(f"cannot make the file for {name}: {e.message}", hint=e.hint) from None
        self._paths[name] = path
        return path

    def _write_memfd(self, name: str, content: bytes) -> str:
        fd = os.memfd_create(f"envinject:{name}", os.MFD_ALLOW_SEALING | os.MFD_CLOEXEC)
        try:
            _write_all(fd, content)
            os.lseek(fd, 0, os.SEEK_SET)
            import fcntl

            fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE
                        | fcntl.F_SEAL_SEAL)  # fmt: skip
            holder = self._holder = self._holder or _Holder()
            # The same descriptor number in the holder names the new file: one atomic step for a reader.
            self._slots[name] = holder.put(fd, self._slots.get(name))
        finally:
            os.close(fd)  # the holder has its own
        return f"/proc/{holder.pid}/fd/{self._slots[name]}"

    def _write_folder(self, name: str, content: bytes) -> str:
        if self._folder is None:
            self._folder = tempfile.mkdtemp(prefix="envinject-", dir=folder_base())  # 0700
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
        """Let go of the files now: the holder drops them and ends, and the folder, if any, is deleted. (Exec mode
        never calls it: the holder keeps them until the command exits.)"""
        if self._holder is not None:
            self._holder.end()
            self._holder = None
        self._slots.clear()
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


def folder_base(environ: Mapping[str, str] | None = None) -> str:
    """Where the folder of files goes: the first of ``$XDG_RUNTIME_DIR`` and ``/dev/shm`` (memory file systems:
    a value never reaches a disk) and the temp folder that is a folder nobody but the user or root can replace
    things in (:func:`~envinject.system.trust.untrusted_folder`: a sticky folder such as /dev/shm will do)."""
    env = os.environ if environ is None else environ
    for base in (env.get("XDG_RUNTIME_DIR"), "/dev/shm", tempfile.gettempdir()):
        if not base or not os.path.isabs(base):
            continue
        try:
            st = os.stat(base)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) and untrusted_folder(st) is None:
            return base
    raise FileSecretError(
        "no private folder for file secrets: $XDG_RUNTIME_DIR, /dev/shm and the temp folder are each missing, "
        "or others can replace what is in them",
    )


class _Holder:
    """The client side of the holder process (:mod:`.holder`): starts it, hands it memory files, ends it."""

    def __init__(self) -> None:
        if not sys.executable:
            raise FileSecretError("no Python interpreter to run the holder of file secrets with")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            # An empty environment, no site, no user paths: nothing of the run's reaches it. Its own session, so
            # a Ctrl-C on the terminal does not end it before the command.
            self._first = subprocess.Popen(
                [sys.executable, "-I", "-S", HOLDER, str(theirs.fileno()), str(os.getpid())],
                pass_fds=(theirs.fileno(),), env={}, cwd="/", start_new_session=True,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._sock = ours
        self._sock.settimeout(_HOLDER_TIMEOUT)
        self._pid: int | None = None

    @property
    def pid(self) -> int:
        """The holder's pid, once it said it is ready."""
        if self._pid is None:
            try:
                self._first.wait(_HOLDER_TIMEOUT)  # it forks and exits at once: the holder is nobody's child here
                self._pid = int(self._answer())
            except (subprocess.TimeoutExpired, ValueError):
                self.end()
                raise FileSecretError("the holder of file secrets did not start") from None
            except BaseException:
                self.end()
                raise
        return self._pid

    def put(self, fd: int, slot: int | None) -> int:
        """Hand the holder ``fd`` to keep as descriptor ``slot`` (replacing the file there), or as a new one;
        return its number there."""
        _ = self.pid  # ready
        socket.send_fds(self._sock, [b"put %s" % (b"new" if slot is None else b"%d" % slot)], [fd])
        try:
            return int(self._answer())
        except ValueError:
            raise FileSecretError("the holder of file secrets refused a file") from None

    def end(self) -> None:
        """Have the holder drop every file and exit (it also ends on its own when the served process does)."""
        with contextlib.suppress(OSError):
            self._sock.send(b"end")
        self._sock.close()

    def _answer(self) -> bytes:
        try:
            answer = self._sock.recv(64)
        except TimeoutError:
            raise FileSecretError("the holder of file secrets did not answer") from None
        if not answer:
            raise FileSecretError("the holder of file secrets exited")
        return answer


def _memfd_works() -> bool:
    """memfd_create exists and the kernel has it (it is missing on macOS and before Linux 3.17)."""
    if not hasattr(os, "memfd_create"):
        return False
    try:
        os.close(os.memfd_create("envinject-probe", os.MFD_CLOEXEC))
    except OSError:
        return False
    return True
