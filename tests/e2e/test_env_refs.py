"""References written in the environment (as an ECS task, a Kubernetes manifest or a Lambda function sets them)
are resolved in place, end to end."""

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import CHILD, Result

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
    r = run("--", *CHILD, env={"BROKEN": "ssm:///app/x:1:2"})
    assert r.returncode == 125
    assert r.stdout == ""
    assert "environment variable BROKEN" in r.stderr
    assert "--no-resolve-env" in r.stderr


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
