"""Binding rules driven through the plan without settings: references, env-file entries and options as given."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from envinject.plan import Plan
from envinject.rules.bindings import Options, layered_entries
from envinject.rules.envfile import Entry
from envinject.rules.environment import Binding
from envinject.rules.refs import Ref
from envinject.settings import Settings
from envinject.sources import Source


def resolve(
    refs: Sequence[str | Ref],
    source: Source,
    options: Options | None = None,
    env_files: Sequence[Sequence[tuple[str, Entry]]] = (),
    warn: Callable[[str], None] | None = None,
    note: Callable[[str], None] | None = None,
) -> list[Binding]:
    """What a run of these references binds: the plan's own fetch (all-or-nothing) and bind."""
    plan = Plan(Settings(), {}, layered_entries(refs, env_files), [], options or Options())
    return plan.bind(plan.fetch(source), warn=warn, note=note)
