"""The holder of file secrets: a small process that keeps each file secret's memory file open, so that its path,
``/proc/HOLDER/fd/N``, opens for exactly as long as the process it serves (the command in exec mode, envinject in
the resident modes) runs, while no other process holds a descriptor of it.

It is its own program, run by path as ``python -I -S holder.py SOCKET SERVED`` with an empty environment and
standard library modules only, so its memory holds no value: only descriptors. It leaves its parent at once (it
forks and the first process exits), so it is never a child of the command. It ends when SERVED exits; the
socket only carries new files and ``end`` (drop them all now).

Each message on the socket (SOCK_SEQPACKET) is one of:

- ``put N`` or ``put new`` with one descriptor: keep it as descriptor N (``dup2``, one atomic step for a
  reader) or as a new one; the answer is its number.
- ``end``: close every file and exit.

The first message the holder sends is its own pid.
"""

from __future__ import annotations

import os
import select
import socket
import sys


def main(argv: list[str]) -> None:
    sock = socket.socket(fileno=int(argv[1]))
    served = int(argv[2])
    exited = _Exit(served)
    if os.fork():
        os._exit(0)  # the parent waits for this; the holder goes on, re-parented
    sock.send(b"%d" % os.getpid())
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    if exited.fd is not None:
        poller.register(exited.fd, select.POLLIN)
    listening = True
    while True:
        events = poller.poll(None if exited.fd is not None else 1000)
        if exited.happened(events):
            return
        if listening and any(fd == sock.fileno() for fd, _ in events):
            listening = _serve_one(sock)
            if not listening:
                poller.unregister(sock)
                sock.close()


def _serve_one(sock: socket.socket) -> bool:
    """Answer one message; False once the socket is closed (exec mode: the served process exec'd the command)."""
    try:
        message, fds, _, _ = socket.recv_fds(sock, 64, 1)
    except OSError:
        return False
    if not message:
        return False
    words = message.split()
    if words == [b"end"]:
        os._exit(0)  # every descriptor, every file with it, closed by the kernel
    if len(words) == 2 and words[0] == b"put" and len(fds) == 1:
        fd = fds[0]
        if words[1] != b"new":
            os.dup2(fd, int(words[1]), inheritable=False)
            os.close(fd)
            fd = int(words[1])
        sock.send(b"%d" % fd)
        return True
    for fd in fds:
        os.close(fd)
    sock.send(b"?")
    return True


class _Exit:
    """When the served process exits: a pidfd that polls readable (Linux 5.3), else its start time in /proc,
    checked every second (a pid used again by another process is not the one served)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.fd: int | None = None
        self.start = _start_time(pid)
        try:
            self.fd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self.fd = None

    def happened(self, events: list[tuple[int, int]]) -> bool:
        if self.fd is not None:
            return any(fd == self.fd for fd, _ in events)
        return _start_time(self.pid) != self.start


def _start_time(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/PID/stat), or None once it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


if __name__ == "__main__":
    main(sys.argv)
