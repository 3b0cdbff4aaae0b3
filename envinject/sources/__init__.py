"""Backends that fetch secrets, behind one small protocol."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..errors import EnvinjectError
from ..refs import Locator


@dataclass(frozen=True)
class Payload:
    """A fetched secret. Its content is left out of repr so it cannot reach a log or traceback."""

    text: str | None = field(default=None, repr=False)
    binary: bytes | None = field(default=None, repr=False)
    version_id: str | None = None
    arn: str | None = None


class Source(Protocol):
    """A backend."""

    def fetch_many(self, locators: Sequence[Locator]) -> Mapping[Locator, Payload]:
        """Every locator's payload, or raise the first EnvinjectError (all-or-nothing)."""
        ...

    def fetch_each(self, locators: Sequence[Locator]) -> Mapping[Locator, Payload | EnvinjectError]:
        """Each locator's payload or its error, for reports that go on past a failure."""
        ...
