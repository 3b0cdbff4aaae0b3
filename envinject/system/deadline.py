"""The process deadline: one bound on a whole fetch, retries included, and an immediate end on a stop signal."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import EXIT_FAILURE
from .stdio import write_stderr


@contextlib.contextmanager
def deadline(seconds: float, message: Callable[[], str]) -> Iterator[None]:
    """End the process with 125 and ``message()`` if the block takes longer than ``seconds``, and at once with
    128+N on SIGINT or SIGTERM (N) while it runs.

    botocore's timeouts bound each request, not a fetch with retries and backoff; this bounds the whole.
    A stop signal must not wait for requests in flight either: worker threads blocked on a socket cannot be
    interrupted, and the interpreter would join them before exiting. Nothing has been exec'd or written
    inside the block, so ending the process starts nothing.
    """

    def expire() -> None:
        write_stderr(message())  # escaped as every other line: the message names what an endpoint answered
        os._exit(EXIT_FAILURE)

    def stop(signum: int, _frame: object) -> None:
        os._exit(128 + signum)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(sig) is not signal.SIG_IGN:  # ignored (a background job): stay so
                previous[sig] = signal.signal(sig, stop)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
