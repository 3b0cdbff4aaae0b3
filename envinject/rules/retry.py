"""How often to try again and how long to wait: one policy for fetches, polls and restarts."""

from __future__ import annotations

import random
from collections.abc import Callable

from ..records import record, replace


@record(frozen=True)
class RetryPolicy:
    """Tries and waits. A fetch uses ``attempts`` (botocore's standard mode does its own waits between tries,
    on throttling and 5xx only); a poll and a restart use :meth:`delay` after each failure in a row."""

    #: Tries per request, the first included.
    attempts: int = 20
    #: The wait after the first failure, in seconds; it doubles with each failure in a row...
    base: float = 1.0
    #: ...up to this many seconds.
    cap: float = 30.0
    #: Each wait is spread by up to this fraction either way, so a fleet does not act in step.
    jitter: float = 0.0

    def delay(self, failures: int, rand: Callable[[], float] = random.random) -> float:
        """The wait after ``failures`` failures in a row (0: the plain interval), with jitter."""
        return self.backed_off(failures) * (1 + self.jitter * (2 * rand() - 1))

    def backed_off(self, failures: int) -> float:
        """The wait after ``failures`` failures in a row, before jitter."""
        return float(min(self.base * 2 ** min(failures, 64), self.cap))

    def with_attempts(self, attempts: int) -> RetryPolicy:
        return replace(self, attempts=attempts)


#: A poll tries twice: a poll that fails is logged and tried again at the next, backed-off interval.
POLL_ATTEMPTS = 2
#: Each failed poll in a row doubles the wait, up to this many times the interval.
POLL_MAX_BACKOFF = 8


def poll_policy(seconds: float) -> RetryPolicy:
    """``--watch SECONDS``: every SECONDS plus or minus 10%, doubling after each failure up to 8 times."""
    return RetryPolicy(attempts=POLL_ATTEMPTS, base=seconds, cap=seconds * POLL_MAX_BACKOFF, jitter=0.1)


#: A command restarted by the resident modes: a child that exits within a second of its start waits out that
#: second, and a command that cannot be started again is retried, the wait doubling up to 30 seconds.
RESTART = RetryPolicy(base=1.0, cap=30.0)
