"""A source that holds its secrets in memory, as chamber's ``nullstore`` does: one fake that every test shares
instead of redefining one per file. It keeps the :class:`~envinject.sources.Source` contract (``fetch_many`` is
all-or-nothing, ``fetch_each`` reports each locator, a missing secret is a not-found error, requests are counted),
so what passes against it holds against a real backend.

Version selectors (``?version-id=``, ``?version-stage=``) are not modelled: every read gets the current payload.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence

from ..errors import EnvinjectError, FetchError
from ..records import field, record, replace
from ..rules.refs import Locator
from . import Payload, RequestCount, all_or_nothing

Held = Payload | EnvinjectError


@record
class _Secret:
    value: Held
    #: How many times it was put or rotated: its payload's version is ``v<count>`` unless one was given.
    count: int = 1
    tags: Mapping[str, str] = field(default_factory=dict)
    kms_key: str | None = None


class MemorySource:
    """Payloads, or the errors reading them gives, by secret id (a parameter's name, for ``ssm://``).

    A selection (``sm://prod/app/*``, ``sm://?tag:k=v``) is made of the held secrets whose names start with the
    prefix, or that carry the tag, unless a payload is held under the selection's own id (``prod/app/*``).
    """

    def __init__(self, secrets: Mapping[str, Held | str] | None = None) -> None:
        self._held: dict[str, _Secret] = {}
        # Sources reads its backends from concurrent threads, and a test may rotate while a poll reads.
        self._lock = threading.Lock()
        self.requests = RequestCount()
        #: The locators of each fetch_many and fetch_each call, in order: what was asked, and how it was grouped.
        self.calls: list[list[Locator]] = []
        for secret_id, value in (secrets or {}).items():
            self.put(secret_id, value)

    def put(
        self, secret_id: str, value: Held | str, *, tags: Mapping[str, str] | None = None, kms_key: str | None = None
    ) -> None:
        """Hold ``value`` under ``secret_id``: a payload (text becomes one, version ``v1``), or the error that
        reading it gives. ``tags`` are for tag selections; ``kms_key`` is its customer-managed key, if any."""
        held = Payload(text=value, version_id="v1") if isinstance(value, str) else value
        with self._lock:
            self._held[secret_id] = _Secret(held, tags=dict(tags or {}), kms_key=kms_key)

    def rotate(self, secret_id: str, value: str | Payload) -> Payload:
        """Replace a held secret's content as a rotation does: the new payload gets the next version, ``v2``,
        ``v3``..., so ``--watch`` sees a change. Returns it."""
        with self._lock:
            held = self._held[secret_id]
            held.count += 1
            payload = value if isinstance(value, Payload) else Payload(text=value)
            held.value = replace(payload, version_id=f"v{held.count}")
            return held.value

    def fetch_many(self, locators: Sequence[Locator]) -> Mapping[Locator, Payload]:
        return all_or_nothing(self._results(locators))

    def fetch_each(self, locators: Sequence[Locator]) -> Mapping[Locator, Payload | EnvinjectError]:
        return self._results(locators)

    def kms_keys_of(self, locator: Locator) -> list[str]:
        with self._lock:
            if locator.is_selection and locator.secret_id not in self._held:
                return sorted({s.kms_key for _, s in self._selected(locator) if s.kms_key})
            held = self._held.get(locator.secret_id)
        if held is None:
            raise _not_found(locator)
        return [held.kms_key] if held.kms_key else []

    def _results(self, locators: Sequence[Locator]) -> dict[Locator, Payload | EnvinjectError]:
        self.calls.append(list(locators))
        return {loc: self._read(loc) for loc in locators}

    def _read(self, loc: Locator) -> Payload | EnvinjectError:
        with self._lock:
            held = self._held.get(loc.secret_id)
            if held is None and loc.is_selection:
                self.requests.add("ListSecrets")
                return self._selection(loc)
            self.requests.add(_OPERATIONS[loc.backend, loc.is_path])
            return _not_found(loc) if held is None else held.value

    def _selected(self, loc: Locator) -> list[tuple[str, _Secret]]:
        """The held secrets a selection names, in name order (never a payload held for a selection: no secret's
        name holds ``*``)."""
        return sorted(
            (
                (name, held)
                for name, held in self._held.items()
                if (loc.tag is not None and held.tags.get(loc.tag[0]) == loc.tag[1])
                or (loc.name_prefix is not None and name.startswith(loc.name_prefix) and "*" not in name)
            ),
            key=lambda pair: pair[0],
        )

    def _selection(self, loc: Locator) -> Payload | EnvinjectError:
        members: list[tuple[str, Payload]] = []
        for name, held in self._selected(loc):
            if isinstance(held.value, EnvinjectError):
                return held.value
            members.append((name, held.value))
        if not members:
            return _not_found(loc)
        # As Secrets Manager's source does: the selection changes whenever a member's version does.
        digest = hashlib.sha256("\n".join(f"{n}\0{p.version_id}" for n, p in members).encode()).hexdigest()
        return Payload(version_id=digest[:32], members=tuple(members))


#: The request a real backend would send to read one locator, by (backend, is a parameter path).
_OPERATIONS = {
    ("sm", False): "GetSecretValue",
    ("ssm", False): "GetParameter",
    ("ssm", True): "GetParametersByPath",
}


def _not_found(loc: Locator) -> FetchError:
    code = "ParameterNotFound" if loc.backend == "ssm" else "ResourceNotFoundException"
    return FetchError(f"{loc.describe()} was not found in memory", code=code, kind="not_found")
