"""Bindings (name, value, where it came from) and how they merge into an environment. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..records import field, record


@record(frozen=True)
class Binding:
    """One variable to set. The value never shows in a repr, so it cannot leak into a log or traceback."""

    name: str
    value: str = field(repr=False)
    source: str
    #: A file secret's content: the value is then the path of a file holding it (set when the file is made).
    content: bytes | None = field(default=None, repr=False)


def merge(base: Mapping[str, str], bindings: Iterable[Binding], *, override: bool = True) -> dict[str, str]:
    """The environment for the command: ``base`` with the bindings applied in order, a later one winning.

    With ``override=False`` a name already in ``base`` keeps its inherited value.
    """
    env = dict(base)
    for b in bindings:
        if override or b.name not in base:
            env[b.name] = b.value
    return env


def secret_values(bindings: Iterable[Binding]) -> list[str | bytes]:
    """What --mask hides (with its encoded forms): each variable's value, and a file secret's content byte for
    byte, whatever its encoding (its path is no secret)."""
    return [b.value if b.content is None else b.content for b in bindings]


def final_sources(bindings: Iterable[Binding]) -> dict[str, str]:
    """Name -> the source that sets it last, in first-set order (for --dry-run and check)."""
    out: dict[str, str] = {}
    for b in bindings:
        out[b.name] = b.source
    return out


def kept(base: Mapping[str, str], bindings: Iterable[Binding], *, override: bool) -> list[str]:
    """The bound names whose inherited value stays (``override=False``), in first-set order (for --dry-run and
    check)."""
    return [] if override else [name for name in dict.fromkeys(b.name for b in bindings) if name in base]


def missing(env: Mapping[str, str], required: Iterable[str]) -> list[str]:
    """The required names that ``env`` does not set, in the order given."""
    return [name for name in dict.fromkeys(required) if name not in env]
