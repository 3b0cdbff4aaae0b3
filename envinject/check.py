"""`envinject check`: what a run would do, reported per reference, without injecting anything or
printing a value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import EnvinjectError, one_line
from .plan import inherited_base, read_template, template_path
from .rules.bindings import Naming, Options, bind_all, bindings_for, layered_entries
from .rules.envfile import environment_entries, read_envfile
from .rules.environment import Binding, kept, merge, missing
from .rules.refs import Ref, parse_file_ref, parse_ref, split_assignment
from .settings import Settings
from .sources import Payload, Source

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
    if settings.resolve_env:
        try:
            env_files.append(environment_entries(inherited))
        except EnvinjectError as e:
            problems.append(str(e))
    for path in settings.env_files:
        try:
            env_files.append(read_envfile(path))
        except EnvinjectError as e:
            problems.append(str(e))
    refs = []
    file_templates = []
    for text, parse in [*((t, parse_ref) for t in settings.secrets), *((t, parse_file_ref) for t in settings.files)]:
        try:
            template = template_path(text) if parse is parse_file_ref else None
            if template is not None:
                file_templates.append(read_template(template, split_assignment(text)[0] or ""))
            else:
                refs.append(parse(text))
        except EnvinjectError as e:
            problems.append(str(e))
    layered = layered_entries(refs, env_files)
    tags = [tag for t in file_templates for tag in t.template.tags if tag.ref is not None]
    wanted = [*(e.locator for _, _, e in layered if isinstance(e, Ref)), *(tag.ref.locator for tag in tags if tag.ref)]
    fetched = source.fetch_each(list(dict.fromkeys(wanted)))
    statuses: list[RefStatus] = []

    def outcome(where: str, ref: Ref, result: list[Binding] | EnvinjectError) -> None:
        label = where if where == ref.text else f"{where} ({ref.text})"
        if isinstance(result, EnvinjectError):
            status = result.kind if result.kind in STATUSES else "error"
            statuses.append(RefStatus(label, status, str(result), getattr(result, "denied_action", None)))
        else:
            found = fetched.get(ref.locator)
            members = [name for name, _ in found.members or ()] if isinstance(found, Payload) else []
            statuses.append(RefStatus(label, "ok", variables=[b.name for b in result], secrets=members))

    options = Options(Naming(settings.prefix, settings.name_case), frozenset(settings.allow))
    ordered = bind_all(layered, fetched, options, outcome)
    for tag in tags:  # a template's references: each must give one value
        assert tag.ref is not None
        try:
            result = fetched[tag.ref.locator]
            if isinstance(result, EnvinjectError):
                raise result
            bindings_for(tag.ref, result, options.naming)
            statuses.append(RefStatus(f"{tag.where} ({tag.ref.text})", "ok"))
        except EnvinjectError as e:
            statuses.append(
                RefStatus(f"{tag.where} ({tag.ref.text})", e.kind, str(e), getattr(e, "denied_action", None))
            )
    variables: dict[str, list[str]] = {}
    for b in [*ordered, *(Binding(t.var, "", f"template:{t.template.origin}") for t in file_templates)]:
        variables.setdefault(b.name, []).append(b.source)
    base = inherited_base(settings, inherited)
    env = merge(base, ordered, override=settings.override)
    held = kept(base, ordered, override=settings.override)
    return Report(caller, statuses, variables, missing(env, settings.require), problems, held)


def render(report: Report) -> str:
    """The human form: one line per reference, then the variables; never a value."""
    lines = [f"caller: {report.caller or 'unknown (sts:GetCallerIdentity failed)'}"]
    lines += [f"error: {p}" for p in report.problems]
    for r in report.refs:
        detail = f"{len(r.variables)} variable(s)" if r.status == "ok" else r.message
        if r.secrets:
            detail += f" from {len(r.secrets)} secret(s): {', '.join(r.secrets)}"
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
    # Keys, references and messages come from whoever wrote the secret: no line may hold an escape or a newline.
    return "\n".join(one_line(line) for line in lines)
