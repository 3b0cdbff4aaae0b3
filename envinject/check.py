"""`envinject check`: what a run would do, reported per reference, without injecting anything or
printing a value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .config import Settings
from .envfile import read_envfile
from .environ import Binding, kept, merge, missing
from .errors import EnvinjectError
from .inject import Naming, Options, bind_all, layered_entries
from .refs import Ref, parse_ref
from .sources import Source

#: Every status a reference can get (an error's ``kind``), and how the text report prints it. The README's list
#: of statuses is this one (tests/unit/test_check.py); an error of any other kind is reported as ``error``.
STATUSES = {
    "ok": "OK", "not_found": "NOT FOUND", "denied": "DENIED", "not_json": "NOT JSON", "key_missing": "KEY MISSING",
    "protected": "PROTECTED", "collision": "COLLISION", "bad_name": "BAD NAME", "error": "ERROR",
}  # fmt: skip


@dataclass
class RefStatus:
    """One reference: ``status`` is one of :data:`STATUSES`; ``variables`` the names it sets."""

    ref: str
    status: str
    message: str = ""
    action: str | None = None
    variables: list[str] = field(default_factory=list)


@dataclass
class Report:
    caller: str | None
    refs: list[RefStatus]
    #: name -> every source that sets it, in precedence order; the last one wins.
    variables: dict[str, list[str]]
    missing_required: list[str]
    problems: list[str]
    #: Names whose inherited value stays (--no-override), as --dry-run shows them.
    kept: list[str] = field(default_factory=list)

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
            status = result.kind if result.kind in STATUSES else "error"
            statuses.append(RefStatus(label, status, str(result), getattr(result, "denied_action", None)))
        else:
            statuses.append(RefStatus(label, "ok", variables=[b.name for b in result]))

    options = Options(Naming(settings.prefix, settings.keep_case), frozenset(settings.allow))
    ordered = bind_all(layered, fetched, options, outcome)
    variables: dict[str, list[str]] = {}
    for b in ordered:
        variables.setdefault(b.name, []).append(b.source)
    base = {} if settings.pristine else inherited
    env = merge(base, ordered, override=settings.override)
    held = kept(base, ordered, override=settings.override)
    return Report(caller, statuses, variables, missing(env, settings.require), problems, held)


def render(report: Report) -> str:
    """The human form: one line per reference, then the variables; never a value."""
    lines = [f"caller: {report.caller or 'unknown (sts:GetCallerIdentity failed)'}"]
    lines += [f"error: {p}" for p in report.problems]
    for r in report.refs:
        detail = f"{len(r.variables)} variable(s)" if r.status == "ok" else r.message
        lines.append(f"{STATUSES[r.status]:12} {r.ref}: {detail}")
    if report.variables:
        lines.append("variables:")
        for name, sources in report.variables.items():
            over = f" (overrides {', '.join(sources[:-1])})" if len(sources) > 1 else ""
            held = "  (inherited value kept)" if name in report.kept else ""
            lines.append(f"  {name} <- {sources[-1]}{over}{held}")
    if report.missing_required:
        lines.append(f"missing required: {', '.join(report.missing_required)}")
    lines.append("ok: everything would work" if report.ok else "not ok: a run would fail")
    return "\n".join(lines)
