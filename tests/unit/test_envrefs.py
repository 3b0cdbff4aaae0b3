"""Which inherited variables are references to resolve: by class, not by list. A CI system fills variables from
text anyone can write (commit messages, titles, branch names) under its own names and under any name a workflow
chooses, so under CI no name is resolved unless declared; nowhere is a value shown in a message."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from envinject.errors import ConfigError
from envinject.plan import Plan, make_plan
from envinject.rules.bindings import Options
from envinject.rules.envrefs import (
    CI_SYSTEMS,
    GENERIC_CI,
    REMOTE_TEXT,
    EnvRefRule,
    ci_system,
    environment_refs,
    is_declarable,
    is_environment_reference,
    matches,
)
from envinject.rules.refs import Ref
from envinject.settings import Settings

CANARY = "canary-envref-K2"
NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True).filter(lambda n: not n.startswith("ENVINJECT_"))
#: What anyone may write into a commit message, a title or a branch name, starting as a reference does.
SCHEMES = st.sampled_from(["sm://", "ssm://", "file:sm://", "file:ssm://"])
USER_TEXT = st.builds(lambda scheme, text: scheme + text + CANARY, SCHEMES, st.text(max_size=40))
#: Every CI system envinject knows, as the variables it sets to say so.
CI_MARKERS = [dict.fromkeys(markers, "true") for markers in CI_SYSTEMS.values()]
CI_MARKERS += [{name: "true"} for name in GENERIC_CI] + [{"CI": "woodpecker"}, {"CI_NAME": "codeship"}]


def test_only_scheme_references_are_taken() -> None:
    environ = {
        "DB": "sm://prod/db#password",
        "URL": "ssm:///app/url",
        "ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
        "PLAIN": "hello",
        "ENVINJECT_SECRETS": "sm://APIKEYS",
        "bad-name": "sm://x",
    }
    found = environment_refs(environ, EnvRefRule())
    assert [where for where, _ in found.entries] == ["$DB", "$URL"]
    db = dict(found.entries)["$DB"]
    assert isinstance(db, Ref) and db.var == "DB" and db.key == ("password",)
    assert db.locator.secret_id == "prod/db"
    assert found.warnings == [] and found.errors == []


@given(markers=st.sampled_from(CI_MARKERS), environ=st.dictionaries(NAMES, USER_TEXT, min_size=1, max_size=5))
@example(markers={"GITLAB_CI": "true", "CI": "true"}, environ={"CI_COMMIT_MESSAGE": "sm://PRODDB#password"})
@example(markers={"GITHUB_ACTIONS": "true"}, environ={"PR_TITLE": "sm://fix the build!"})
def test_under_ci_nothing_undeclared_is_resolved_or_shown(markers: dict[str, str], environ: dict[str, str]) -> None:
    environ = {**environ, **markers}
    rule = EnvRefRule.of(True, environ)
    assert rule.ci is not None
    found = environment_refs(environ, rule)
    assert found.entries == [] and found.errors == []
    assert not any(is_environment_reference(n, v, rule) for n, v in environ.items())
    written = [n for n, v in environ.items() if v.startswith(("sm://", "ssm://", "file:"))]
    assert len(found.warnings) == len(written)
    for name, warning in zip(written, found.warnings, strict=True):
        assert warning.startswith(f"{name} ") and "--resolve-env" in warning
        assert CANARY not in warning


#: Variables each CI system the issue names fills from user-written text, by its documentation: commit messages,
#: titles and descriptions, branch and tag names. A workflow's own names (PR_TITLE) are the property test's.
CI_USER_TEXT = {
    "GitHub Actions": ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "GITHUB_BASE_REF"),
    "GitLab CI": (
        "CI_COMMIT_MESSAGE", "CI_COMMIT_TITLE", "CI_COMMIT_DESCRIPTION", "CI_COMMIT_BRANCH", "CI_COMMIT_REF_NAME",
        "CI_COMMIT_TAG", "CI_COMMIT_TAG_MESSAGE", "CI_MERGE_REQUEST_TITLE", "CI_MERGE_REQUEST_DESCRIPTION",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME",
    ),
    "Buildkite": ("BUILDKITE_MESSAGE", "BUILDKITE_BRANCH", "BUILDKITE_TAG", "BUILDKITE_PULL_REQUEST_BASE_BRANCH"),
    "CircleCI": ("CIRCLE_BRANCH", "CIRCLE_TAG"),
    "Jenkins": ("BRANCH_NAME", "CHANGE_TITLE", "CHANGE_BRANCH", "TAG_NAME", "GIT_BRANCH", "GERRIT_CHANGE_SUBJECT"),
    "Azure Pipelines": (
        "BUILD_SOURCEVERSIONMESSAGE", "BUILD_SOURCEBRANCH", "BUILD_SOURCEBRANCHNAME",
        "SYSTEM_PULLREQUEST_SOURCEBRANCH",
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("system", "name"), [(s, n) for s, names in CI_USER_TEXT.items() for n in names], ids=lambda x: str(x)
)
def test_what_each_ci_system_fills_from_user_text_is_never_resolved(system: str, name: str) -> None:
    environ = {**dict.fromkeys(CI_SYSTEMS[system], "x"), name: "sm://PRODDB#password"}
    rule = EnvRefRule.of(True, environ)
    assert rule.ci == system
    assert environment_refs(environ, rule).entries == []
    # Declared, it is the user's choice.
    assert [w for w, _ in environment_refs(environ, EnvRefRule.of((name,), environ)).entries] == [f"${name}"]


@given(
    environ=st.dictionaries(NAMES, st.sampled_from(["sm://A#k", "ssm:///app/x", "plain"]), max_size=8),
    declared=st.lists(st.one_of(NAMES, NAMES.map(lambda n: n[:2] + "*")), min_size=1, max_size=3),
    ci=st.booleans(),
)
def test_declared_names_are_the_only_ones_resolved_in_or_out_of_ci(
    environ: dict[str, str], declared: list[str], ci: bool
) -> None:
    environ = {**environ, **({"GITHUB_ACTIONS": "true"} if ci else {})}
    rule = EnvRefRule.of(tuple(declared), environ)
    resolved = {where[1:] for where, _ in environment_refs(environ, rule).entries}

    def is_declared(name: str) -> bool:
        return any(name == p or (p.endswith("*") and name.startswith(p[:-1])) for p in declared)

    assert resolved == {n for n, v in environ.items() if v.startswith(("sm://", "ssm://")) and is_declared(n)}


@given(environ=st.dictionaries(NAMES, st.one_of(USER_TEXT, st.sampled_from(["sm://A#k", "x"])), max_size=6))
def test_one_rule_answers_what_is_resolved_and_what_is_inherited(environ: dict[str, str]) -> None:
    for rule in (EnvRefRule(), EnvRefRule(False), EnvRefRule((*environ, "Z*")[:2]), EnvRefRule(ci="CI")):
        found = environment_refs(environ, rule)
        read = {w[1:] for w, _ in found.entries} | {n for n in environ if f"variable {n} " in str(found.errors)}
        assert read == {n for n, v in environ.items() if is_environment_reference(n, v, rule)}


@given(name=NAMES, text=st.text(max_size=30))
@example(name="NOTES", text="fix the build!")
def test_an_undeclared_malformed_reference_is_a_warning_a_declared_one_an_error(name: str, text: str) -> None:
    value = f"sm://{text} {CANARY}"  # a space: no secret name holds one
    found = environment_refs({name: value}, EnvRefRule())
    assert found.entries == [] and found.errors == []
    assert len(found.warnings) == 1 and found.warnings[0].startswith(f"{name} ") and CANARY not in found.warnings[0]
    if not any(matches(p, name) for p in REMOTE_TEXT):
        assert f"({len(value)} characters, not shown)" in found.warnings[0]
    assert not is_environment_reference(name, value, EnvRefRule())
    declared = environment_refs({name: value}, EnvRefRule((name,)))
    assert declared.entries == [] and declared.warnings == [] and len(declared.errors) == 1
    assert f"variable {name} " in declared.errors[0].message and CANARY not in str(declared.errors[0])
    assert is_environment_reference(name, value, EnvRefRule((name,)))


@pytest.mark.parametrize(
    "name", ["HTTP_USER_AGENT", "HTTP_X_ANYTHING", "QUERY_STRING", "PATH_INFO", "LANG", "LC_ALL", "LC_X",
             "SSH_ORIGINAL_COMMAND", "GIT_PUSH_OPTION_0", "REMOTE_USER"],
)  # fmt: skip
def test_names_a_remote_party_fills_are_resolved_only_when_declared(name: str) -> None:
    environ = {name: "sm://PRODDB#password"}
    found = environment_refs(environ, EnvRefRule())
    assert found.entries == [] and len(found.warnings) == 1 and "remote party" in found.warnings[0]
    assert len(environment_refs(environ, EnvRefRule((name,))).entries) == 1


def test_no_resolve_env_reads_nothing_and_says_nothing() -> None:
    found = environment_refs({"A": "sm://x", "B": "sm://bad name", "CI": "true"}, EnvRefRule(False))
    assert (found.entries, found.warnings, found.errors) == ([], [], [])


@pytest.mark.parametrize(("system", "markers"), list(CI_SYSTEMS.items()))
def test_each_ci_system_is_known_by_its_markers(system: str, markers: tuple[str, ...]) -> None:
    assert ci_system(dict.fromkeys(markers, "1")) == system
    if len(markers) > 1:  # Jenkins: JENKINS_URL alone may be an app's setting
        assert ci_system({markers[0]: "1"}) is None


@pytest.mark.parametrize(
    "environ",
    [{}, {"CI": "false"}, {"CI": "0"}, {"CI": ""}, {"GITHUB_ACTIONS": "false"}, {"JENKINS_URL": "http://j"},
     # Hosting platforms set these where services run, not only in builds.
     {"RENDER": "true"}, {"VERCEL": "1"}, {"NETLIFY": "true"}, {"DYNO": "web.1"},
     {"BUILD_ID": "42"}, {"BUILD_NUMBER": "7"}, {"TASK_ID": "a", "RUN_ID": "b"}],
)  # fmt: skip
def test_no_ci_system(environ: dict[str, str]) -> None:
    assert ci_system(environ) is None


def test_ci_false_does_not_hide_a_ci_system() -> None:
    # CI=false is what some build tools are told to stop treating warnings as errors.
    assert ci_system({"CI": "false", "GITHUB_ACTIONS": "true"}) == "GitHub Actions"


@pytest.mark.parametrize(("pattern", "taken"), [("DB_PASSWORD", True), ("DB_*", True), ("_X", True),
                                                ("*", False), ("1A", False), ("DB-*", False), ("A**", False),
                                                ("*_PASSWORD", False), ("", False), ("A B", False)])  # fmt: skip
def test_what_resolve_env_takes(pattern: str, taken: bool) -> None:
    assert is_declarable(pattern) is taken


def _plan(environ: dict[str, str], resolve: bool | tuple[str, ...] = True) -> Plan:
    return make_plan(Settings(resolve_env=resolve), environ)


def test_the_command_inherits_what_is_left_as_it_is_and_not_what_is_resolved() -> None:
    environ = {"DB": "sm://prod/db#password", "NOTES": "sm://fix the build!", "PLAIN": "x"}
    assert _plan(environ).base() == {"NOTES": "sm://fix the build!", "PLAIN": "x"}
    under_ci = {**environ, "GITLAB_CI": "true"}
    assert _plan(under_ci).base() == under_ci
    assert _plan(under_ci, ("DB",)).base() == {k: v for k, v in under_ci.items() if k != "DB"}
    assert _plan(environ, False).base() == environ


def test_the_plan_warns_and_check_collects() -> None:
    warnings: list[str] = []
    environ = {"CI_COMMIT_MESSAGE": "sm://PRODDB#password", "GITLAB_CI": "true", "BAD": f"sm://x {CANARY}"}
    plan = make_plan(Settings(), environ, warn=warnings.append)
    assert plan.locators == [] and len(warnings) == 2 and CANARY not in str(warnings)
    with pytest.raises(ConfigError) as info:
        make_plan(Settings(resolve_env=("BAD",)), environ)
    assert "BAD" in info.value.message and CANARY not in str(info.value)
    checked = make_plan(Settings(resolve_env=("BAD", "CI_*")), environ, collect=True)
    assert len(checked.problems) == 1 and CANARY not in checked.problems[0]
    assert [str(loc) for loc in checked.locators] == ["PRODDB"]


def test_the_python_api_reads_no_reference_from_the_environment() -> None:
    plan = make_plan(Settings(), {"DB": "sm://prod/db#password"}, environment_references=False)
    assert plan.locators == [] and plan.base() == {"DB": "sm://prod/db#password"}
    assert Plan(Settings(), {"DB": "sm://x"}, [], [], Options()).base() == {"DB": "sm://x"}
