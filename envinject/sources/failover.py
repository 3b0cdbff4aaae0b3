"""Failover to replica regions. Secrets Manager replicates a secret to other regions under the same name (an ARN
that differs in the region alone); when a secret's own region does not answer, the replica in the next failover
region is read instead, within the same deadline.

Only a region that does not answer is passed over: a time-out, a refused or lost connection, throttling after the
retries, a 5xx, or an answer that could not be read. Not found, access denied and a KMS failure are answers: they
never fail over, and the error names the region that gave them.

The replica is not kept waiting for the whole deadline: the read is hedged. When the primary has not answered after
:func:`hedge_seconds`, the next region is asked too, and the first to answer wins (a primary that then refuses is
no longer waited for). The delay is one second: a GetSecretValue in its own region answers in tens of
milliseconds, a few hundred at the 99th percentile with a new TLS connection, so a healthy region is almost never
hedged (no extra requests), while a black-holed one costs a second, not the deadline. A short --timeout lowers it
to a quarter of the timeout, so the replicas still have time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..errors import EnvinjectError, FetchError
from ..rules.payload import Payload
from ..rules.refs import Locator
from . import Source, all_or_nothing
from .aws import THROTTLED

#: Error codes of a region that did not answer (besides the network's and the 5xx statuses).
_UNANSWERED = {"Unreachable", "Timeout", "BadResponse", "InternalServiceError", "InternalFailure",
               "ServiceUnavailable", "ServiceUnavailableException", *THROTTLED}  # fmt: skip


def hedge_seconds(timeout: float) -> float:
    """How long the primary region has before the next one is asked too (see the module's docstring)."""
    return min(1.0, timeout / 4)


def unanswered(error: EnvinjectError) -> bool:
    """Whether ``error`` means the region did not answer (fail over) rather than answered no (never)."""
    code = getattr(error, "code", "") or ""
    return isinstance(error, FetchError) and (code in _UNANSWERED or (code.isdigit() and code.startswith("5")))


def served_region(payload: Payload, asked: Locator) -> str | None:
    """The region that answered: from the ARN in its answer, else the one asked."""
    if payload.arn and payload.arn.startswith("arn:") and payload.arn.count(":") >= 4:
        return payload.arn.split(":")[3] or asked.region
    return asked.region


class Failover:
    """A source whose secrets with failover regions (their own ``?failover-region=``, else ``regions``) are read
    hedged across those regions; the rest go to ``inner`` as they are, batched. ``changed`` hears when the region
    that serves a secret changes from one fetch to the next (the watcher's polls); ``note`` of every failover."""

    def __init__(
        self,
        inner: Source,
        regions: tuple[str, ...],
        *,
        hedge: float,
        note: Callable[[str], None],
        changed: Callable[[str], None] | None = None,
    ) -> None:
        self.inner = inner
        self._regions = regions
        self._hedge = hedge
        self._note = note
        self._changed = changed
        self._last: dict[Locator, str | None] = {}

    @property
    def requests(self) -> dict[str, int]:
        return self.inner.requests

    def _failover(self, loc: Locator) -> tuple[str, ...]:
        return tuple(r for r in (loc.failover or self._regions) if r != loc.region)

    def _split(self, locators: Sequence[Locator]) -> tuple[list[Locator], list[Locator]]:
        plain = [loc for loc in locators if not self._failover(loc) or loc.is_selection or loc.is_path]
        return plain, [loc for loc in locators if loc not in plain]

    def fetch_many(self, locators: Sequence[Locator]) -> Mapping[Locator, Payload]:
        plain, hedged = self._split(locators)
        found: dict[Locator, Payload] = dict(self.inner.fetch_many(plain)) if plain else {}
        if hedged:
            found.update(all_or_nothing(self._all_hedged(hedged)))
        return {loc: found[loc] for loc in locators}

    def fetch_each(self, locators: Sequence[Locator]) -> Mapping[Locator, Payload | EnvinjectError]:
        plain, hedged = self._split(locators)
        found: dict[Locator, Payload | EnvinjectError] = dict(self.inner.fetch_each(plain)) if plain else {}
        found.update(self._all_hedged(hedged))
        return {loc: found[loc] for loc in locators}

    def kms_keys_of(self, locator: Locator) -> list[str]:
        return self.inner.kms_keys_of(locator)

    def _all_hedged(self, locators: list[Locator]) -> dict[Locator, Payload | EnvinjectError]:
        """Each locator read hedged, all at once: secrets whose region is down wait one hedge delay, not one each."""
        if len(locators) <= 1:
            return {loc: self._hedged(loc) for loc in locators}
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(8, len(locators))) as pool:
            return dict(zip(locators, pool.map(self._hedged, locators), strict=True))

    def _fetch(self, loc: Locator) -> Payload | EnvinjectError:
        try:
            got = self.inner.fetch_each([loc])[loc]
        except EnvinjectError as e:  # a client that could not be made for that region
            return e
        return got

    def _hedged(self, loc: Locator) -> Payload | EnvinjectError:
        """The first answer from ``loc``'s region and then its failover regions, each started when the one before
        has not answered within the hedge delay, or has failed to answer."""
        from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

        chain = [loc, *(loc.in_region(r) for r in self._failover(loc))]
        pool = ThreadPoolExecutor(max_workers=len(chain))
        running: dict[Future[Payload | EnvinjectError], Locator] = {}
        last: EnvinjectError | None = None
        try:
            running[pool.submit(self._fetch, chain[0])] = chain[0]
            started = 1
            while running:
                done, _ = wait(running, timeout=self._hedge if started < len(chain) else None,
                               return_when=FIRST_COMPLETED)  # fmt: skip
                if not done:  # the hedge: ask the next region too
                    self._note(f"{loc.describe()}: no answer from {_region(chain[started - 1])} within "
                               f"{self._hedge:g}s; asking {_region(chain[started])} too")  # fmt: skip
                    running[pool.submit(self._fetch, chain[started])] = chain[started]
                    started += 1
                    continue
                for future in done:
                    asked = running.pop(future)
                    result = future.result()
                    if isinstance(result, Payload):
                        self._served(loc, asked, result)
                        return result
                    if not unanswered(result):
                        return _in_region(result, asked)
                    last = _in_region(result, asked)
                    self._note(f"{loc.describe()}: {_region(asked)} did not answer ({result.message})")
                    if started < len(chain) and len(running) == 0:
                        running[pool.submit(self._fetch, chain[started])] = chain[started]
                        started += 1
            assert last is not None
            return last
        finally:
            pool.shutdown(wait=False, cancel_futures=True)  # a hung region is not waited for

    def _served(self, loc: Locator, asked: Locator, payload: Payload) -> None:
        region = served_region(payload, asked) or "the default region"
        primary = asked == loc
        self._note(f"{loc.describe()}: read {'in' if primary else 'from the replica in'} {region}")
        before = self._last.get(loc, region if primary else None)
        self._last[loc] = region
        if self._changed is not None and before != region:
            self._changed(f"{loc.describe()} is now read from {region}")


def _region(loc: Locator) -> str:
    return loc.region or "the default region"


def _in_region(error: EnvinjectError, asked: Locator) -> EnvinjectError:
    """The error, saying which region gave it when it was a failover region (the primary's message says so)."""
    if not asked.pinned_region or asked.pinned_region in error.message:
        return error
    message = f"{error.message} (in {asked.pinned_region})"
    if isinstance(error, FetchError):
        return FetchError(message, hint=error.hint, code=error.code, denied_action=error.denied_action,
                          kind=error.kind)  # fmt: skip
    return type(error)(message, hint=error.hint, kind=error.kind)
