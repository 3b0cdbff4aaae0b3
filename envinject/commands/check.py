"""`envinject check`: whether a run would work, per reference; sets nothing and prints no value.

The report comes from the run's own plan: the same parsing, the same reads (each secret's outcome, not the
first failure) and the same binding rules, with every reference's outcome collected instead of raised.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import EnvinjectError, one_line
from ..plan import caller_identity, make_plan, make_source
from ..records import as_dict, field, record
from ..rules.environment import Binding
from ..rules.payload import Payload
from ..rules.refs import Locator, Ref
from ..settings import Settings
from ..sources import Source
from ..system.stdio import write_stdout
from ..validate import validate
from . import Log, fetch_deadline, require_something


def check(settings: Settings, log: Log, *, json_output: bool = False) -> int:
    """Print the report (text or JSON); 0 when a run would work, else 1."""
    validate(settings)
    require_something(settings)
    with fetch_deadline(settings):
        source = make_source(settings, note=log.note)
        report = report_of(settings, source, os.environ, caller_identity(settings, log.note), warn=log.warn)
        from ..sources.agent import unused

        report.agent = source.agent.report() if source.agent is not None else unused(settings.via)
    write_stdout((json.dumps(report.to_json(), indent=2) if json_output else render_report(report)) + "\n")
    return 0 if report.ok else 1


#: Every status a reference can get (an error's ``kind``), and how the text report prints it. The README's list
#: of statuses is this one (tests/unit/test_check.py); an error of any other kind is reported as ``error``.
STATUSES = {
    "ok": "OK", "not_found": "NOT FOUND", "denied": "DENIED", "not_json": "NOT JSON", "key_missing": "KEY MISSING",
    "protected": "PROTECTED", "collision": "COLLISION", "bad_name": "BAD NAME", "error": "ERROR",
}  # fmt: skip


@record
class RefStatus:
    """One reference: ``status`` is one of :data:`STATUSES`; ``variables`` the names it sets."""

    ref: str
    status: str
    message: str = ""
    action: str | None = None
    variables: list[str] = field(default_factory=list)
    #: A selection's secrets (``sm://prod/app/*``), by name.
    secrets: list[str] = field(default_factory=list)
    #: The IAM role it is read with (None: the caller's own credentials).
    role: str | None = None
    #: The region that served it (a replica's when it failed over).
    region: str | None = None


@record
class Report:
    caller: str | None
    refs: list[RefStatus]
    #: name -> every source that sets it, in precedence order; the last one wins.
    variables: dict[str, list[str]]
    missing_required: list[str]
    problems: list[str]
    #: Names whose inherited value stays (--no-override), as --dry-run shows them.
    kept: list[str] = field(default_factory=list)
    #: The local Secrets Manager agent: where, whether it answered and for how many secrets, or why none was used.
    agent: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems and not self.missing_required and all(r.status == "ok" for r in self.refs)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, **as_dict(self)}


def report_of(
    settings: Settings,
    source: Source,
    inherited: Mapping[str, str],
    caller: str | None,
    warn: Callable[[str], None] | None = None,
) -> Report:
    """Fetch each secret once and report every reference; nothing stops at the first failure. ``warn`` hears of
    each inherited variable written as a reference and left as it is, as a run's warnings do."""
    plan = make_plan(settings, inherited, collect=True, warn=warn)
    results = source.fetch_each(plan.locators)
    statuses: list[RefStatus] = []

    route = getattr(source, "route", None)

    def outcome(where: str, ref: Ref, result: list[Binding] | EnvinjectError) -> None:
        status = _status(where, ref, result, results)
        status.role = route(ref.locator).role if route is not None else ref.locator.role
        found = results.get(ref.locator)
        if isinstance(found, Payload) and found.arn and found.arn.count(":") >= 4:
            status.region = found.arn.split(":")[3] or None
        statuses.append(status)

    bindings = plan.bind(results, outcome=outcome)
    variables: dict[str, list[str]] = {}
    for b in bindings:
        variables.setdefault(b.name, []).append(b.source)
    return Report(caller, statuses, variables, plan.missing(bindings), plan.problems, plan.kept(bindings))


def _status(
    where: str, ref: Ref, result: list[Binding] | EnvinjectError, results: Mapping[Locator, Payload | EnvinjectError]
) -> RefStatus:
    label = where if where == ref.text else f"{where} ({ref.text})"
    if isinstance(result, EnvinjectError):
        status = result.kind if result.kind in STATUSES else "error"
        return RefStatus(label, status, str(result), getattr(result, "denied_action", None))
    found = results.get(ref.locator)
    members = [name for name, _ in found.members or ()] if isinstance(found, Payload) else []
    return RefStatus(label, "ok", variables=[b.name for b in result], secrets=members)


def render_report(report: Report) -> str:
    """The human form: one line per reference, then the variables; never a value."""
    lines = [f"caller: {report.caller or 'unknown (sts:GetCallerIdentity failed)'}"]
    if report.agent:
        lines.append(f"agent: {report.agent}")
    lines += [f"error: {p}" for p in report.problems]
    for r in report.refs:
        detail = f"{len(r.variables)} variable(s)" if r.status == "ok" else r.message
        if r.secrets:
            detail += f" from {len(r.secrets)} secret(s): {', '.join(r.secrets)}"
        if r.role:  # read with a role: assumed (then fetched or not), or the assumption was denied
            assumed = "denied" if r.action == "sts:AssumeRole" else "assumed"
            detail += f" [role {r.role}: {assumed}]"
        if r.region and r.status == "ok":
            detail += f" [from {r.region}]"
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
