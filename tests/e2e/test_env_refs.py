"""References written in the environment (as an ECS task, a Kubernetes manifest or a Lambda function sets them)
are resolved in place, end to end."""

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import CHILD, ENVINJECT, Result

Run = Callable[..., Result]
KEYS = {"openai": "sk-env-canary-1", "anthropic": "sk-ant-env-canary-2"}


@pytest.fixture
def apikeys(sm: Any) -> None:
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps(KEYS))
    sm.create_secret(Name="prod/db", SecretString=json.dumps({"password": "pw-canary-3", "host": "db.local"}))


def test_a_reference_in_the_environment_becomes_its_value(apikeys: None, run: Run) -> None:
    r = run("--", *CHILD, env={"OPENAI_API_KEY": "sm://APIKEYS#openai", "DB_PASSWORD": "sm://prod/db#password"})
    assert r.returncode == 0, r.stderr
    assert r.env["OPENAI_API_KEY"] == KEYS["openai"]
    assert r.env["DB_PASSWORD"] == "pw-canary-3"
    assert "ANTHROPIC" not in r.env  # a reference with VAR sets exactly that name


def test_a_whole_secret_in_the_environment_is_its_text(apikeys: None, run: Run) -> None:
    r = run("--", *CHILD, env={"ALL_KEYS": "sm://APIKEYS"})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.env["ALL_KEYS"]) == KEYS


def test_bare_arns_and_other_values_pass_through(apikeys: None, run: Run, sm: Any) -> None:
    arn = sm.describe_secret(SecretId="APIKEYS")["ARN"]
    keep = {"DB_SECRET_ARN": arn, "URL": "https://sm://x", "HINT": "APIKEYS#openai", "ENVINJECT_SECRETS": ""}
    r = run("--", *CHILD, env=keep)
    assert r.returncode == 0, r.stderr
    assert r.env["DB_SECRET_ARN"] == arn
    assert r.env["URL"] == "https://sm://x"
    assert r.env["HINT"] == "APIKEYS#openai"


def test_no_resolve_env_passes_references_through(apikeys: None, run: Run) -> None:
    r = run("--no-resolve-env", "--", *CHILD, env={"OPENAI_API_KEY": "sm://APIKEYS#openai"})
    assert r.returncode == 0, r.stderr
    assert r.env["OPENAI_API_KEY"] == "sm://APIKEYS#openai"


def test_resolve_env_false_in_the_config_file(apikeys: None, run: Run, tmp_path: Any) -> None:
    (tmp_path / "envinject.toml").write_text("resolve-env = false\n")
    r = run("--", *CHILD, env={"OPENAI_API_KEY": "sm://APIKEYS#openai"}, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.env["OPENAI_API_KEY"] == "sm://APIKEYS#openai"


def test_no_override_still_replaces_the_reference(apikeys: None, run: Run) -> None:
    r = run("--no-override", "--", *CHILD, env={"OPENAI_API_KEY": "sm://APIKEYS#openai"})
    assert r.returncode == 0, r.stderr
    assert r.env["OPENAI_API_KEY"] == KEYS["openai"]


def test_a_secret_on_the_command_line_wins_over_the_environment(apikeys: None, run: Run) -> None:
    r = run("-s", "OPENAI=prod/db#host", "--", *CHILD, env={"OPENAI": "sm://APIKEYS#openai"})
    assert r.returncode == 0, r.stderr
    assert r.env["OPENAI"] == "db.local"


def test_a_missing_secret_in_the_environment_runs_nothing(apikeys: None, run: Run) -> None:
    r = run("--", *CHILD, env={"DB_PASSWORD": "sm://prod/nope#password", "OPENAI": "sm://APIKEYS#openai"})
    assert r.returncode == 125
    assert r.stdout == ""  # the child never ran
    assert "$DB_PASSWORD" in r.stderr and "prod/nope" in r.stderr
    r.assert_no(*KEYS.values())


def test_a_malformed_reference_in_the_environment_names_the_variable(apikeys: None, run: Run) -> None:
    r = run("--resolve-env", "BROKEN", "--", *CHILD, env={"BROKEN": "ssm:///app/x:1:2"})
    assert r.returncode == 125
    assert r.stdout == ""
    assert "environment variable BROKEN" in r.stderr
    assert "--resolve-env" in r.stderr


def test_protected_names_hold_for_the_environment(apikeys: None, run: Run) -> None:
    r = run("--", *CHILD, env={"LD_PRELOAD": "sm://APIKEYS#openai"})
    assert r.returncode == 125
    assert "LD_PRELOAD" in r.stderr and "--allow" in r.stderr
    r.assert_no(*KEYS.values())


def test_dry_run_names_the_source_never_the_value(apikeys: None, run: Run) -> None:
    r = run("--dry-run", "--", "true", env={"OPENAI_API_KEY": "sm://APIKEYS#openai"})
    assert r.returncode == 0, r.stderr
    assert "OPENAI_API_KEY\t<- APIKEYS#openai" in r.stdout
    r.assert_no(*KEYS.values())


def test_check_reports_references_from_the_environment(apikeys: None, run: Run) -> None:
    r = run("check", env={"OPENAI_API_KEY": "sm://APIKEYS#openai", "DB_PASSWORD": "sm://prod/nope#password"})
    assert r.returncode == 1
    assert "$OPENAI_API_KEY" in r.stdout and "$DB_PASSWORD" in r.stdout
    assert "NOT FOUND" in r.stdout
    r.assert_no(*KEYS.values())


def test_policy_reads_references_from_the_environment(apikeys: None, run: Run) -> None:
    r = run("policy", "--account", "123456789012", env={"OPENAI_API_KEY": "sm://APIKEYS#openai"})
    assert r.returncode == 0, r.stderr
    resources = json.dumps(json.loads(r.stdout)["Statement"])
    assert "secret:APIKEYS-??????" in resources


def test_export_writes_the_resolved_values(apikeys: None, run: Run) -> None:
    r = run("export", "--format", "json", env={"OPENAI_API_KEY": "sm://APIKEYS#openai", "PLAIN": "x"})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"OPENAI_API_KEY": KEYS["openai"]}


# Issue 22: a CI system fills variables from text anyone who opens a pull request writes (commit messages,
# titles, branch names), under its own names and under names a workflow chooses. None of them is resolved.
PRODDB = "pw-canary-prod-5d1"
#: Each CI system the issue names: the markers it sets, and variables it fills from user-written text.
CI_TEXT = [
    ({"GITLAB_CI": "true", "CI": "true"}, "CI_COMMIT_MESSAGE"),
    ({"GITLAB_CI": "true", "CI": "true"}, "CI_MERGE_REQUEST_TITLE"),
    ({"GITHUB_ACTIONS": "true", "CI": "true"}, "PR_TITLE"),  # env: PR_TITLE: ${{ github.event.pull_request.title }}
    ({"BUILDKITE": "true", "CI": "true"}, "BUILDKITE_MESSAGE"),
    ({"CIRCLECI": "true", "CI": "true"}, "CIRCLE_BRANCH"),
    ({"JENKINS_URL": "http://jenkins.local/", "BUILD_ID": "7"}, "CHANGE_TITLE"),
    ({"TF_BUILD": "True"}, "BUILD_SOURCEVERSIONMESSAGE"),
]


@pytest.fixture
def proddb(sm: Any) -> None:
    sm.create_secret(Name="PRODDB", SecretString=json.dumps({"password": PRODDB}))


@pytest.mark.parametrize(("markers", "name"), CI_TEXT, ids=[n for _, n in CI_TEXT])
def test_text_a_ci_system_fills_is_never_resolved(
    apikeys: None, proddb: None, run: Run, markers: dict[str, str], name: str
) -> None:
    r = run("-s", "APIKEYS#openai", "--", *CHILD, env={**markers, name: "sm://PRODDB#password"})
    assert r.returncode == 0, r.stderr
    assert r.env[name] == "sm://PRODDB#password"
    assert r.env["OPENAI"] == KEYS["openai"]
    r.assert_no(PRODDB)
    assert r.stderr.count("\n") == 1 and name in r.stderr and "--resolve-env" in r.stderr, r.stderr


@pytest.mark.parametrize(("markers", "name"), CI_TEXT[:1] + CI_TEXT[2:3], ids=["gitlab", "github"])
def test_export_in_ci_writes_no_secret_a_commit_message_names(
    apikeys: None, proddb: None, run: Run, markers: dict[str, str], name: str
) -> None:
    r = run("export", "-f", "json", "-s", "APIKEYS#openai", env={**markers, name: "sm://PRODDB#password"})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"OPENAI": KEYS["openai"]}
    r.assert_no(PRODDB)


def test_a_malformed_reference_in_a_commit_message_fails_no_job(apikeys: None, run: Run) -> None:
    env = {"GITLAB_CI": "true", "CI": "true", "CI_COMMIT_MESSAGE": "sm://fix the build!"}
    r = run("-s", "APIKEYS#openai", "--", *CHILD, env=env)
    assert r.returncode == 0, r.stderr
    assert r.env["OPENAI"] == KEYS["openai"]
    assert r.env["CI_COMMIT_MESSAGE"] == "sm://fix the build!"


def test_a_malformed_reference_in_an_unrelated_variable_is_a_warning(apikeys: None, run: Run) -> None:
    r = run("--", *CHILD, env={"NOTES": "sm://fix the build! canary-notes-9f", "OPENAI": "sm://APIKEYS#openai"})
    assert r.returncode == 0, r.stderr
    assert r.env["OPENAI"] == KEYS["openai"]
    assert r.env["NOTES"] == "sm://fix the build! canary-notes-9f"
    assert r.stderr.count("\n") == 1 and "NOTES" in r.stderr, r.stderr
    assert "canary-notes-9f" not in r.stderr and "fix the build" not in r.stderr


def test_a_nested_run_never_echoes_a_secret_that_looks_like_a_reference(sm: Any, run: Run) -> None:
    value = "sm://not a reference canary-nested-31"
    sm.create_secret(Name="NESTED", SecretString=json.dumps({"note": value}))
    r = run("-s", "NESTED", "--", ENVINJECT, "--", *CHILD)
    assert r.returncode == 0, r.stderr
    assert r.env["NOTE"] == value
    assert "canary-nested-31" not in r.stderr and "NOTE" in r.stderr, r.stderr


def test_a_declared_variable_is_resolved_in_ci(apikeys: None, run: Run, tmp_path: Any) -> None:
    ci = {"GITHUB_ACTIONS": "true", "CI": "true", "DB_PASSWORD": "sm://prod/db#password", "PR_TITLE": "sm://APIKEYS"}
    r = run("--resolve-env", "DB_PASSWORD", "--", *CHILD, env=ci)
    assert r.returncode == 0, r.stderr
    assert r.env["DB_PASSWORD"] == "pw-canary-3"
    assert r.env["PR_TITLE"] == "sm://APIKEYS"
    r = run("--", *CHILD, env={**ci, "ENVINJECT_RESOLVE_ENV": "DB_*"})
    assert r.returncode == 0, r.stderr
    assert (r.env["DB_PASSWORD"], r.env["PR_TITLE"]) == ("pw-canary-3", "sm://APIKEYS")
    (tmp_path / "envinject.toml").write_text('resolve-env = ["DB_PASSWORD"]\n')
    r = run("--", *CHILD, env=ci, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (r.env["DB_PASSWORD"], r.env["PR_TITLE"]) == ("pw-canary-3", "sm://APIKEYS")


def test_declared_names_are_the_only_ones_resolved_outside_ci_too(apikeys: None, run: Run) -> None:
    env = {"DB_PASSWORD": "sm://prod/db#password", "OPENAI": "sm://APIKEYS#openai"}
    r = run("--resolve-env", "DB_PASSWORD", "--", *CHILD, env=env)
    assert r.returncode == 0, r.stderr
    assert (r.env["DB_PASSWORD"], r.env["OPENAI"]) == ("pw-canary-3", "sm://APIKEYS#openai")


def test_a_declared_malformed_reference_is_an_error_naming_only_the_variable(apikeys: None, run: Run) -> None:
    r = run("--resolve-env", "BROKEN", "--", *CHILD, env={"BROKEN": "sm://bad name canary-declared-77"})
    assert r.returncode == 125
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and "BROKEN" in r.stderr, r.stderr
    assert "canary-declared-77" not in r.stderr and "bad name" not in r.stderr
