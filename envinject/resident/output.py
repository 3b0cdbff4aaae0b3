"""``--mask``: the child's stdout and stderr, copied to ours through a :class:`~.mask.Masker` by one thread per
pipe, so that neither pipe can fill up while the other is being read, whatever the child does."""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import IO

from .mask import Masker, masked_forms

#: After the child exits, its output is copied until EOF; a pipe that stays silent this long is left
#: behind, because a background process that inherited it may keep it open forever.
_DRAIN_IDLE = 1.0


class MaskedOutput:
    """An :class:`~.child.Output` that hides values and their encoded forms (:func:`~.mask.masked_forms`). Values
    added later are hidden from then on, in the output of the running child as in that of the children started
    after it."""

    def __init__(self, values: Iterable[str | bytes], *, more_to_come: bool = False) -> None:
        """``more_to_come``: values may be added while a child runs (``--watch``), so every child is filtered."""
        self._forms = masked_forms(values)
        self._masker = Masker(self._forms)
        self._more_to_come = more_to_come
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        """Whether the child's output must be filtered: a value is long enough to be masked, or one may come while
        the child runs (a child that writes to our fds directly can never be filtered later)."""
        return self._more_to_come or self._masker.active

    @property
    def masker(self) -> Masker:
        """The masker of every value so far; each stream feeds a :meth:`~.Masker.fresh` copy of it."""
        return self._masker

    def add_values(self, values: Iterable[str | bytes]) -> None:
        """Also mask ``values`` (old values stay masked). Called from a poll's thread, while pumps read."""
        with self._lock:  # two polls never overlap, but the values must not be lost if they did
            forms = self._forms | masked_forms(values)
            if forms == self._forms:
                return  # nothing new: the pumps keep their masker
            self._forms = forms
            # Built before it is published: a pump only ever sees a complete masker.
            self._masker = Masker(forms)

    def attach(self, stdout: IO[bytes], stderr: IO[bytes]) -> Callable[[], None]:
        """Copy the child's pipes to our fds 1 and 2; return a function that waits until both are copied."""
        pumps = [_Pump(stdout, 1, self), _Pump(stderr, 2, self)]
        return lambda: _drain(pumps)


def _drain(pumps: Sequence[_Pump]) -> None:
    """Wait until the pumps copied everything, or until one stays idle (its pipe kept open elsewhere)."""
    since = time.monotonic()
    for pump in pumps:
        while pump.alive():
            pump.join(0.05)
            idle = time.monotonic() - max(pump.last_read, since)
            if idle > _DRAIN_IDLE and not pump.writing:
                break


class _Pump:
    """Copies one of the child's output pipes to one of our fds through the output's latest masker."""

    def __init__(self, source: IO[bytes], target_fd: int, output: MaskedOutput) -> None:
        self._source = source
        self._target = target_fd
        self._output = output
        self.last_read = time.monotonic()
        self.writing = False
        self._thread = threading.Thread(target=self._run, name=f"envinject-mask-{target_fd}", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        fd = self._source.fileno()
        latest = self._output.masker
        masker = latest.fresh()
        try:
            while True:
                # os.read returns whatever is there: a line the child flushed goes out now.
                chunk = os.read(fd, 65536)
                self.last_read = time.monotonic()
                if self._output.masker is not latest:  # values were added: go on with all of them
                    latest = self._output.masker
                    masker = latest.fresh(continuing=masker)
                if not chunk:
                    self._write(masker.flush())
                    return
                self._write(masker.feed(chunk))
        except OSError:
            # Our stdout is gone (EPIPE, EBADF): closing the pipe gives the child the EPIPE or SIGPIPE
            # it would get writing there itself.
            pass
        finally:
            self._source.close()

    def _write(self, data: bytes) -> None:
        self.writing = True
        try:
            view = memoryview(data)
            while view:
                try:
                    view = view[os.write(self._target, view) :]
                except BlockingIOError:
                    # Our stdout was left non-blocking by whoever started us: wait until it takes more.
                    select.select([], [self._target], [])
        finally:
            self.writing = False
