"""Backends that fetch secrets, behind one small protocol, and the router that sends each reference to its own."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from ..errors import EnvinjectError
from ..records import record
from ..rules.payload import Item, Payload
from ..rules.refs import Locator

__all__ = ["Account", "Item", "Payload", "Route", "Source", "Sources"]

R = TypeVar("R")


@record(frozen=True)
class Account:
    """Where the secrets live, from sts:GetCallerIdentity and the region settings (for policies)."""

    partition: str
    account: str
    region: str


class RequestCount(dict[str, int]):
    """Requests sent, by operation name (for -v and the benchmarks); counted safely from several threads."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def add(self, operation: str) -> None:
        with self._lock:
            self[operation] = self.get(operation, 0) + 1


def all_or_nothing(results: Mapping[Locator, Payload | EnvinjectError]) -> dict[Locator, Payload]:
    """The payloads, or the first failure in the order given (so the message is deterministic)."""
    payloads: dict[Locator, Payload] = {}
    for loc, result in results.items():
        if isinstance(result, EnvinjectError):
            result.subject = loc
            raise result
        payloads[loc] = result
    return payloads


def each_concurrently(
    fetch_one: Callable[[Locator], Payload], locators: Sequence[Locator], max_workers: int = 8
) -> dict[Locator, Payload | EnvinjectError]:
    """``fetch_one`` for each locator, several at once (one needs no thread), each one's payload or error."""

    def result(loc: Locator) -> Payload | EnvinjectError:
        try:
            return fetch_one(loc)
        except EnvinjectError as e:
            return e

    if len(locators) <= 1:
        return {loc: result(loc) for loc in locators}
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(max_workers, len(locators))) as pool:
        return dict(zip(locators, pool.map(result, locators), strict=True))


class Source(Protocol):
    """A backend."""

    @property
    def requests(self) -> dict[str, int]:
        """Requests sent, by operation name (for -v and the benchmarks)."""
        ...

    def fetch_many(self, locators: Sequence[Locator]) -> Mapping[Locator, Payload]:
        """Every locator's payload, or raise the first EnvinjectError (all-or-nothing)."""
        ...

    def fetch_each(self, locators: Sequence[Locator]) -> Mapping[Locator, Payload | EnvinjectError]:
        """Each locator's payload or its error, for reports that go on past a failure."""
        ...

    def kms_keys_of(self, locator: Locator) -> list[str]:
        """The customer-managed KMS keys its values are encrypted with (for `policy`); reads no value."""
        ...


@record(frozen=True)
class Route:
    """Which source reads a locator: its backend, and the role it is read with (None: the caller's own)."""

    backend: str
    role: str | None = None
    external_id: str | None = None


class Sources:
    """Sends each locator to the source of its route (its backend, and the IAM role it is read with), made on
    first use, so a run that reads only Secrets Manager never builds a Parameter Store client, and a role is assumed
    only if a reference needs it. ``role``: the role for references that name none (--role)."""

    def __init__(self, make: Callable[[Route], Source], *, agent: Any = None, role: str | None = None) -> None:
        self._make = make
        self._built: dict[Route, Source] = {}
        #: The local agent Secrets Manager is read through (a ThroughAgent), if any: for check and policy.
        self.agent = agent
        self._role = role

    def route(self, locator: Locator) -> Route:
        if locator.role is not None:
            return Route(locator.backend, locator.role, locator.external_id)
        return Route(locator.backend, self._role)

    def of(self, route: Route) -> Source:
        if route not in self._built:
            self._built[route] = self._make(route)
        return self._built[route]

    @property
    def requests(self) -> dict[str, int]:
        counted: dict[str, int] = {}
        for src in self._built.values():
            for op, n in src.requests.items():
                counted[op] = counted.get(op, 0) + n
        return counted

    def _groups(self, locators: Sequence[Locator]) -> dict[Route, list[Locator]]:
        groups: dict[Route, list[Locator]] = {}
        for loc in locators:
            groups.setdefault(self.route(loc), []).append(loc)
        return groups

    def _each_backend(
        self, locators: Sequence[Locator], fetch: Callable[[Source, list[Locator]], Mapping[Locator, R]]
    ) -> dict[Locator, R]:
        """``fetch`` for each route's locators, the routes concurrently; a failure is raised for the route named
        first, whatever finished first. A role that cannot be assumed fails its route's secrets."""
        groups = list(self._groups(locators).items())
        found: dict[Locator, R] = {}
        if len(groups) == 1:
            found.update(fetch(self.of(groups[0][0]), groups[0][1]))
        elif groups:
            from concurrent.futures import ThreadPoolExecutor  # one route needs no thread

            with ThreadPoolExecutor(max_workers=len(groups)) as pool:
                for part in pool.map(lambda g: fetch(self.of(g[0]), g[1]), groups):
                    found.update(part)
        return {loc: found[loc] for loc in locators}

    def fetch_many(self, locators: Sequence[Locator]) -> Mapping[Locator, Payload]:
        return self._each_backend(locators, lambda src, group: src.fetch_many(group))

    def fetch_each(self, locators: Sequence[Locator]) -> Mapping[Locator, Payload | EnvinjectError]:
        return self._each_backend(locators, lambda src, group: _each_or_error(src, group))

    def kms_keys_of(self, locator: Locator) -> list[str]:
        return self.of(self.route(locator)).kms_keys_of(locator)

    def service_of(self, locator: Locator) -> str:
        return SERVICES[locator.backend]

    def roles(self, locators: Sequence[Locator]) -> list[str]:
        """The roles these locators are read with, each once, in the order first needed."""
        return list(dict.fromkeys(r.role for r in map(self.route, locators) if r.role is not None))


def _each_or_error(src: Source, group: list[Locator]) -> Mapping[Locator, Payload | EnvinjectError]:
    """Each locator's result; a failure before any request (a role that cannot be assumed) is every one's."""
    try:
        return src.fetch_each(group)
    except EnvinjectError as e:
        return dict.fromkeys(group, e)


#: Each backend's AWS service name, as clients and kms:ViaService name it.
SERVICES = {"sm": "secretsmanager", "ssm": "ssm"}
ClientFor = Callable[[str | None], Any]


def backend_source(
    backend: str,
    client_for: ClientFor,
    *,
    batch_client_for: ClientFor | None = None,
    batch: bool = True,
    note: Callable[[str], None] | None = None,
) -> Source:
    """The source for one backend; ``client_for(region)`` gives its AWS client."""
    if backend == "ssm":
        from .ssm import ParameterStoreSource

        return ParameterStoreSource(client_for, note=note)
    from .secretsmanager import SecretsManagerSource

    return SecretsManagerSource(client_for, batch_client_for=batch_client_for, batch=batch, note=note)


def grants(locators: Sequence[Locator], where: Account, *, batch: bool) -> list[dict[str, Any]]:
    """IAM statements that let a run read these locators, each backend's own, Secrets Manager first."""
    from . import secretsmanager, ssm

    sm = [loc for loc in locators if loc.backend == "sm"]
    parameters = [loc for loc in locators if loc.backend == "ssm"]
    return (secretsmanager.grants(sm, where, batch=batch) if sm else []) + (
        ssm.grants(parameters, where) if parameters else []
    )
