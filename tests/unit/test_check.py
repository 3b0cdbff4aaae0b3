"""`envinject check`'s report: every status it can print is in the README, and inherited values it keeps show."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from envinject.commands.check import STATUSES, RefStatus, Report
from envinject.commands.check import render_report as render
from envinject.commands.check import report_of as check
from envinject.errors import EnvinjectError, FetchError
from envinject.settings import Settings
from envinject.sources import Payload
from envinject.sources.memory import MemorySource

ROOT = Path(__file__).parents[2]
IAM_PAGE = (ROOT / "docs" / "guide" / "iam.md").read_text()


def kinds_in_the_code() -> set[str]:
    """Every ``kind="..."`` an error is raised with anywhere in envinject, and the classes' defaults."""
    kinds = {"ok", "error", "denied", "not_found"}  # EnvinjectError's default and FetchError's derived ones
    for path in (ROOT / "envinject").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "kind" and isinstance(node.value, ast.Constant):
                kinds.add(node.value.value)
    return kinds


def test_every_status_the_code_can_give_is_printed_as_one_the_manual_lists() -> None:
    section = IAM_PAGE.split("## `envinject check`")[1].split("\n## ")[0]
    listed = set(re.findall(r"`([A-Z][A-Z ]+)`", section))
    assert kinds_in_the_code() <= set(STATUSES)
    assert set(STATUSES.values()) == listed
    for kind, shown in STATUSES.items():
        line = render(Report(None, [RefStatus("APIKEYS", kind, "why")], {}, [], []))
        assert f"\n{shown:12} APIKEYS" in line


def test_an_unknown_kind_is_reported_as_error() -> None:
    report = check(
        Settings(secrets=("APIKEYS",)), MemorySource({"APIKEYS": EnvinjectError("odd", kind="odd")}), {}, None
    )
    assert [r.status for r in report.refs] == ["error"]
    assert "\nERROR        APIKEYS: odd" in render(report)


@pytest.mark.parametrize(("override", "pristine", "kept"), [(False, False, ["OPENAI"]), (True, False, []),
                                                            (False, True, [])])  # fmt: skip
def test_check_shows_an_inherited_value_kept_as_dry_run_does(override: bool, pristine: bool, kept: list[str]) -> None:
    settings = Settings(secrets=("APIKEYS",), override=override, pristine=pristine)
    source = MemorySource({"APIKEYS": Payload(text='{"openai": "sk-1", "anthropic": "sk-2"}')})
    report = check(settings, source, {"OPENAI": "mine"}, None)
    assert report.kept == kept
    assert report.to_json()["kept"] == kept
    text = render(report)
    assert ("  OPENAI <- APIKEYS#openai  (inherited value kept)" in text) == bool(kept)
    assert "  ANTHROPIC <- APIKEYS#anthropic\n" in text


def test_a_denied_fetch_keeps_its_action() -> None:
    denied = FetchError("no", denied_action="secretsmanager:GetSecretValue")
    report = check(Settings(secrets=("APIKEYS",)), MemorySource({"APIKEYS": denied}), {}, None)
    assert [(r.status, r.action) for r in report.refs] == [("denied", "secretsmanager:GetSecretValue")]
