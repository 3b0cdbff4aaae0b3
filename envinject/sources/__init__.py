"""Backends that fetch secrets, behind one small protocol."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..refs import Locator


@dataclass(frozen=True)
class Payload:
    """A fetched secret. Its content is left out of repr so it cannot reach a log or traceback."""

    text: str | None = field(default=None, repr=False)
    binary: bytes | None = field(default=None, repr=False)
    version_id: str | None = None
    arn: str | None = None


class Source(Protocol):
    """A backend: fetch every locator or raise one EnvinjectError (all-or-nothing)."""

    def fetch_many(self, locators: Sequence[Locator]) -> Mapping[Locator, Payload]: ...
