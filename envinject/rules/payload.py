"""What a backend hands back: a fetched secret or parameter, its content kept out of every repr."""

from __future__ import annotations

from ..records import field, record


@record(frozen=True)
class Item:
    """One value a backend has already named: ``path`` is the key path its variable is named from."""

    path: tuple[str, ...]
    value: str = field(repr=False)
    #: The reference that selects it alone (``ssm:///app/prod/db``), for messages, `check` and VAR= hints.
    origin: str


@record(frozen=True)
class Payload:
    """A fetched secret. Its content is left out of repr so it cannot reach a log or traceback."""

    text: str | None = field(default=None, repr=False)
    binary: bytes | None = field(default=None, repr=False)
    #: Changes whenever the content does (--watch compares it).
    version_id: str | None = None
    arn: str | None = None
    #: Values already split and named by the backend (a Parameter Store parameter or path); None for a
    #: document whose JSON keys name the variables.
    items: tuple[Item, ...] | None = field(default=None, repr=False)
    #: A selection's secrets (``sm://prod/app/*``, ``sm://?tag:k=v``), each (name, its payload), in name order;
    #: None for a single secret.
    members: tuple[tuple[str, Payload], ...] | None = field(default=None, repr=False)
