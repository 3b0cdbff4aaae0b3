"""`envinject check`: what a run would do, reported per reference, without injecting anything or
printing a value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .config import Settings
from .envfile import read_envfile
from .environ import Binding, merge, missing
from .errors import EnvinjectError
from .inject import Naming, Options, bind_all, layered_entries
from .refs import Ref, parse_ref
from .sources import Payload, Source


@dataclass
class RefStatus:
    """One reference: ``status`` is ok, not_found, denied, not_json, key_missing, protected, collision,
    bad_name or error; ``variables`` the names it sets."""

    ref: str
    status: str
    message: str = ""
    action: str | None = None
    variables: list[str] = field(default_factory=list)
    #: A selection's secrets (``sm://prod/app/*``), by name.
    secrets: list[str] = field(default_factory=list)


@dataclass
class Report:
    caller: str | None
    refs: list[RefStatus]
    #: name -> every source that sets it, in precedence order; the last one wins.
    variables: dict[str, list[str]]
    missing_required: list[str]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems and not self.missing_required and all(r.status == "ok" for r in self.refs)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, **asdict(self)}


def check(settings: Settings, source: Source, inherited: Mapping[str, str], caller: str | None) -> Report:
    """Fetch each secret once and report every reference; nothing stops at the first failure."""
    problems: list[str] = []
    env_files = []
    for path in settings.env_files:
        try:
            env_files.append(read_envfile(path))
        except EnvinjectError as e:
            problems.append(str(e))
    refs = []
    for text in settings.secrets:
        try:
            refs.append(parse_ref(text))
        except EnvinjectError as e:
            problems.append(str(e))
    layered = layered_entries(refs, env_files)
    fetched = source.fetch_each(list(dict.fromkeys(e.locator for _, _, e in layered if isinstance(e, Ref))))
    statuses: list[RefStatus] = []

    def outcome(where: str, ref: Ref, result: list[Binding] | EnvinjectError) -> None:
        label = where if where == ref.text else f"{where} ({ref.text})"
        if isinstance(result, EnvinjectError):
            statuses.append(RefStatus(label, result.kind, str(result), getattr(result, "denied_action", None)))
        else:
            found = fetched.get(ref.locator)
            members = [name for name, _ in found.members or ()] if isinstance(found, Payload) else []
            statuses.append(RefStatus(label, "ok", variables=[b.name for b in result], secrets=members))

    options = Options(Naming(settings.prefix, settings.name_case), frozenset(settings.allow))
    ordered = bind_all(layered, fetched, options, outcome)
    variables: dict[str, list[str]] = {}
    for b in ordered:
        variables.setdefault(b.name, []).append(b.source)
    env = merge({} if settings.pristine else inherited, ordered, override=settings.override)
    return Report(caller, statuses, variables, missing(env, settings.require), problems)


def render(report: Report) -> str:
    """The human form: one line per reference, then the variables; never a value."""
    lines = [f"caller: {report.caller or 'unknown (sts:GetCallerIdentity failed)'}"]
    lines += [f"error: {p}" for p in report.problems]
    for r in report.refs:
        detail = f"{len(r.variables)} variable(s)" if r.status == "ok" else r.message
        if r.secrets:
            detail += f" from {len(r.secrets)} secret(s): {', '.join(r.secrets)}"
        lines.append(f"{r.status.upper().replace('_', ' '):12} {r.ref}: {detail}")
    if report.variables:
        lines.append("variables:")
        for name, sources in report.variables.items():
            over = f" (overrides {', '.join(sources[:-1])})" if len(sources) > 1 else ""
            lines.append(f"  {name} <- {sources[-1]}{over}")
    if report.missing_required:
        lines.append(f"missing required: {', '.join(report.missing_required)}")
    lines.append("ok: everything would work" if report.ok else "not ok: a run would fail")
    return "\n".join(lines)
