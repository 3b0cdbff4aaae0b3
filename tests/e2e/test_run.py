"""The installed envinject against moto_server: what the child receives, exit codes, dry-run."""

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.conftest import CHILD, ENVINJECT, Result, base_env
from tests.emulator import Emulator

Run = Callable[..., Result]
SEED = {"openai": "sk-openai-canary-1", "anthropic": "sk-ant-canary-2"}


def test_seed_scenario(sm: Any, run: Run) -> None:
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps(SEED))
    r = run("--secret", "APIKEYS", "--", *CHILD)
    assert r.returncode == 0, r.stderr
    assert r.env["OPENAI"] == SEED["openai"]
    assert r.env["ANTHROPIC"] == SEED["anthropic"]
    assert r.stderr == ""


def test_run_subcommand_and_short_option(sm: Any, run: Run) -> None:
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps(SEED))
    assert run("run", "-s", "APIKEYS", "--", *CHILD).env["OPENAI"] == SEED["openai"]


def test_arguments_after_the_separator_reach_the_command_untouched(sm: Any, run: Run) -> None:
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps(SEED))
    r = run("-s", "APIKEYS", "--", "sh", "-c", 'printf "%s|" "$@"', "sh", "--secret", "-v", "--", "a b")
    assert r.stdout == "--secret|-v|--|a b|"


def test_secrets_from_the_environment_variable(sm: Any, run: Run) -> None:
    sm.create_secret(Name="a", SecretString='{"x": "1"}')
    sm.create_secret(Name="b", SecretString='{"y": "2"}')
    sm.create_secret(Name="c", SecretString='{"z": "3"}')
    r = run("--", *CHILD, env={"ENVINJECT_SECRETS": "a, b\nc"})
    assert (r.env["X"], r.env["Y"], r.env["Z"]) == ("1", "2", "3")


def test_prefix_keep_case_nested_and_types(sm: Any, run: Run) -> None:
    doc = {"db": {"host": "h", "port": 5432}, "on": True, "none": None, "list": [1, "a"], "api-key": "k"}
    sm.create_secret(Name="app/config", SecretString=json.dumps(doc))
    env = run("-s", "app/config", "--prefix", "APP_", "--", *CHILD).env
    assert env["APP_DB_HOST"] == "h"
    assert env["APP_DB_PORT"] == "5432"
    assert env["APP_ON"] == "true"
    assert env["APP_NONE"] == ""
    assert env["APP_LIST"] == '[1,"a"]'
    assert env["APP_API_KEY"] == "k"
    assert run("-s", "app/config", "--keep-case", "--", *CHILD).env["db_host"] == "h"


def test_order_later_secret_wins_and_secrets_override_inherited(sm: Any, run: Run) -> None:
    sm.create_secret(Name="first", SecretString='{"token": "one"}')
    sm.create_secret(Name="second", SecretString='{"token": "two"}')
    assert run("-s", "first", "-s", "second", "--", *CHILD, env={"TOKEN": "inherited"}).env["TOKEN"] == "two"
    assert run("-s", "second", "-s", "first", "--", *CHILD).env["TOKEN"] == "one"
    assert run("-s", "second", "--", *CHILD, env={"OTHER": "kept"}).env["OTHER"] == "kept"


def test_plain_text_into_a_variable(sm: Any, run: Run) -> None:
    value = 'line one\nit\'s "quoted" $HOME `x` \\ é 🙂'
    sm.create_secret(Name="db/password", SecretString=value)
    assert run("-s", "DB_PASSWORD=db/password", "--", *CHILD).env["DB_PASSWORD"] == value


def test_names_with_every_allowed_character_and_arns(sm: Any, run: Run) -> None:
    arn = sm.create_secret(Name="team/a_b+c=d.e@f-g", SecretString='{"k": "v"}')["ARN"]
    assert run("-s", "team/a_b+c=d.e@f-g", "--", *CHILD).env["K"] == "v"
    assert run("-s", arn, "--", *CHILD).env["K"] == "v"
    assert run("-s", f"X={arn}", "--", *CHILD).env["X"] == '{"k": "v"}'


def test_exit_status_is_the_commands(sm: Any, run: Run) -> None:
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps(SEED))
    for status in (0, 3, 255):
        assert run("-s", "APIKEYS", "--", *CHILD, str(status)).returncode == status


def test_exec_replaces_envinject(sm: Any, emulator: Emulator) -> None:
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps(SEED))
    # After exec the command has envinject's PID: nothing of envinject stays resident.
    p = subprocess.Popen(
        [ENVINJECT, "-s", "APIKEYS", "--", "sh", "-c", "echo $$"],
        env=base_env(emulator),
        stdout=subprocess.PIPE,
        text=True,
    )
    out, _ = p.communicate(timeout=60)
    assert int(out) == p.pid


def test_command_not_found_and_not_executable(sm: Any, run: Run, tmp_path: Any) -> None:
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps(SEED))
    r = run("-s", "APIKEYS", "--", "no-such-command-xyz")
    assert r.returncode == 127
    assert "no-such-command-xyz: command not found" in r.stderr
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    r = run("-s", "APIKEYS", "--", str(script))
    assert r.returncode == 126
    assert "cannot run" in r.stderr
    r.assert_no(*SEED.values())


def test_dry_run_prints_names_and_command_never_values(sm: Any, run: Run) -> None:
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps(SEED))
    r = run("-s", "APIKEYS", "--dry-run", "--", "python", "bot.py", "--flag")
    assert r.returncode == 0
    assert "OPENAI" in r.stdout
    assert "ANTHROPIC" in r.stdout
    assert "python bot.py --flag" in r.stdout
    r.assert_no(*SEED.values())


def test_verbose_times_each_phase_without_values(sm: Any, run: Run, tmp_path: Path) -> None:
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps(SEED))
    (tmp_path / "envinject.toml").write_text('secrets = ["APIKEYS"]\n')
    r = run("-v", "--", "true", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    ms = r"(\d+) ms"
    patterns = [
        rf"envinject: config: {ms} \(.*envinject\.toml\)",
        rf"envinject: credentials: {ms} \(env\)",
        rf"envinject: fetch: {ms}, {ms} of it loading botocore; 1 request\(s\) \(1 GetSecretValue\); 2 variable\(s\)",
        rf"envinject: exec: true at {ms} after start",
    ]
    lines = r.stderr.splitlines()
    assert len(lines) == len(patterns), r.stderr
    found = [re.fullmatch(p, line) for p, line in zip(patterns, lines, strict=True)]
    assert all(found), r.stderr
    config, _, fetch, setup, exec_at = (int(n) for m in found if m for n in m.groups())
    assert setup <= fetch and config <= exec_at
    r.assert_no(*SEED.values())


def test_version_and_help(run: Run) -> None:
    r = run("--version")
    assert r.returncode == 0
    assert r.stdout.startswith("envinject ")
    assert "--secret" in run("run", "--help").stdout


def test_usage_errors_exit_125(run: Run) -> None:
    r = run("--no-such-option", "--", "true")
    assert r.returncode == 125
    assert r.stderr.count("\n") == 1
    r = run("-s", "APIKEYS")
    assert r.returncode == 125
    assert "no command given" in r.stderr


def test_profile_from_the_aws_config_files(sm: Any, run: Run, tmp_path: Any) -> None:
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps(SEED))
    (tmp_path / "config").write_text("[profile dev]\nregion = us-east-1\n")
    (tmp_path / "credentials").write_text("[dev]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    files = {"AWS_CONFIG_FILE": str(tmp_path / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials")}
    no_env = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_REGION": None, "AWS_DEFAULT_REGION": None}
    assert run("-s", "APIKEYS", "--", *CHILD, env={**files, **no_env, "AWS_PROFILE": "dev"}).env["OPENAI"]
    assert run("--profile", "dev", "-s", "APIKEYS", "--", *CHILD, env={**files, **no_env}).env["OPENAI"]


def test_a_huge_secret(sm: Any, run: Run) -> None:
    # Secrets Manager's limit is 65,536 bytes of SecretString.
    doc = {f"key_{i:04d}": "v" * 50 for i in range(1000)}
    sm.create_secret(Name="huge", SecretString=json.dumps(doc, separators=(",", ":")))
    env = run("-s", "huge", "--", *CHILD).env
    assert all(env[k.upper()] == v for k, v in doc.items())


def test_python_dash_m(emulator: Emulator) -> None:
    out = subprocess.run([sys.executable, "-m", "envinject", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("envinject ")


def test_an_empty_secret_sets_nothing_and_require_catches_it(sm: Any, run: Run) -> None:
    """`push` of an empty .env file makes `{}`: no variable, -v says so, and --require is how to insist."""
    sm.create_secret(Name="EMPTY", SecretString="{}")
    r = run("-s", "EMPTY", "--prefix", "X_", "-v", "--", *CHILD)
    assert r.returncode == 0, r.stderr
    assert not [name for name in r.env if name.startswith("X_")]
    assert "envinject: EMPTY: secret 'EMPTY' is an empty JSON object, so it sets no variable\n" in r.stderr
    r = run("-s", "EMPTY", "--require", "OPENAI", "--", *CHILD)
    assert r.returncode == 125
    assert r.stderr.startswith("envinject: required variable(s) not set: OPENAI;")
