"""Names end to end: override warnings, --layered, per-reference prefixes, --name-case, prefix and tag
selections (with their policy, under IAM enforced by moto_server)."""

import json
import shutil
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CHILD, Result
from tests.e2e.test_resident import CHILD as RESIDENT_CHILD
from tests.e2e.test_resident import lines, start, wait_for
from tests.emulator import Emulator

Run = Callable[..., Result]
CANARY = "canary-names-8128"


def rds(sm: Any) -> None:
    for i in (1, 2):
        sm.create_secret(Name=f"prod/db{i}", SecretString=json.dumps({"username": f"u{i}", "password": f"{CANARY}{i}"}))


def test_a_later_secret_replacing_a_variable_is_one_warning_line_each(sm: Any, run: Run) -> None:
    rds(sm)
    r = run("-s", "prod/db1", "-s", "prod/db2", "--", *CHILD)
    assert r.returncode == 0, r.stderr
    assert r.env["PASSWORD"] == CANARY + "2"
    lines = r.stderr.splitlines()
    assert sorted(line.split()[1] for line in lines) == ["PASSWORD", "USERNAME"]
    assert all(line.startswith("envinject: ") and "'prod/db1'" in line and "'prod/db2'" in line for line in lines)
    assert CANARY not in r.stderr and "u1" not in r.stderr and "u2" not in r.stderr  # stdout is the child's
    # export and --dry-run say it too; the warnings never go to stdout.
    r = run("export", "-s", "prod/db1", "-s", "prod/db2")
    assert r.returncode == 0 and r.stderr.count("\n") == 2 and "replaced" not in r.stdout
    r = run("--dry-run", "-s", "prod/db1", "-s", "prod/db2", "--", "true")
    assert r.returncode == 0 and r.stderr.count("\n") == 2
    r.assert_no(CANARY + "1", CANARY + "2")


def test_layered_silences_the_warning_from_the_command_line_or_the_config_file(
    sm: Any, run: Run, tmp_path: Path
) -> None:
    rds(sm)
    r = run("--layered", "-s", "prod/db1", "-s", "prod/db2", "--", *CHILD)
    assert (r.returncode, r.stderr, r.env["USERNAME"]) == (0, "", "u2")
    (tmp_path / "envinject.toml").write_text('layered = true\nsecrets = ["prod/db1", "prod/db2"]\n')
    r = run("--", *CHILD, cwd=tmp_path)
    assert (r.returncode, r.stderr, r.env["USERNAME"]) == (0, "", "u2")
    r = run("--no-layered", "--", *CHILD, cwd=tmp_path)  # the command line wins
    assert r.returncode == 0 and r.stderr.count("replaced by the later 'prod/db2'") == 2


def test_per_reference_prefixes_everywhere_a_reference_goes(sm: Any, run: Run, tmp_path: Path) -> None:
    rds(sm)
    want = {"DB1_USERNAME": "u1", "DB1_PASSWORD": CANARY + "1", "DB2_USERNAME": "u2", "DB2_PASSWORD": CANARY + "2"}

    def got(r: Result) -> dict[str, str]:
        assert r.returncode == 0, r.stderr
        assert r.stderr == ""
        return {k: v for k, v in r.env.items() if k.startswith("DB")}

    assert got(run("-s", "DB1_*=prod/db1", "-s", "DB2_*=prod/db2", "--", *CHILD)) == want
    assert got(run("--", *CHILD, env={"ENVINJECT_SECRETS": "DB1_*=prod/db1,DB2_*=sm://prod/db2"})) == want
    template = tmp_path / "app.env"
    template.write_text("DB1_*=sm://prod/db1\nexport DB2_*=sm://prod/db2\n")
    assert got(run("-e", str(template), "--", *CHILD)) == want
    (tmp_path / "envinject.toml").write_text('secrets = ["DB1_*=prod/db1", "DB2_*=prod/db2"]\n')
    assert got(run("--", *CHILD, cwd=tmp_path)) == want


def test_name_case(sm: Any, run: Run, tmp_path: Path) -> None:
    sm.create_secret(Name="app", SecretString='{"Db-Host": "h"}')
    for args, name in [
        ((), "DB_HOST"),
        (("--name-case", "upper"), "DB_HOST"),
        (("--name-case", "lower"), "db_host"),
        (("--name-case", "keep"), "Db_Host"),
        (("--keep-case",), "Db_Host"),
        (("--upper-case",), "DB_HOST"),
        (("--name-case", "lower", "--prefix", "App_"), "App_db_host"),
    ]:
        r = run(*args, "-s", "app", "--", *CHILD)
        assert r.returncode == 0, r.stderr
        assert r.env[name] == "h", args
    (tmp_path / "envinject.toml").write_text('name-case = "lower"\nsecrets = ["app"]\n')
    assert run("--", *CHILD, cwd=tmp_path).env["db_host"] == "h"
    assert run("--keep-case", "--", *CHILD, cwd=tmp_path).env["Db_Host"] == "h"  # the command line wins
    r = run("--name-case", "title", "-s", "app", "--", "true")
    assert r.returncode == 125 and r.stderr.count("\n") == 1 and "upper, lower or keep" in r.stderr


def test_a_prefix_selection_runs_checks_and_fails_on_no_match(sm: Any, run: Run) -> None:
    sm.create_secret(Name="prod/app/db", SecretString=json.dumps({"password": CANARY}))
    sm.create_secret(Name="prod/app/api", SecretString='{"token": "t"}')
    sm.create_secret(Name="prod/apple", SecretString='{"other": "x"}')
    r = run("-s", "APP_*=sm://prod/app/*", "--", *CHILD)
    assert r.returncode == 0, r.stderr
    assert {k: v for k, v in r.env.items() if k.startswith("APP_")} == {"APP_PASSWORD": CANARY, "APP_TOKEN": "t"}
    assert "OTHER" not in r.env
    r = run("check", "-s", "prod/app/*")
    assert r.returncode == 0, r.stdout
    assert "OK           prod/app/*: 2 variable(s) from 2 secret(s): prod/app/api, prod/app/db" in r.stdout
    r.assert_no(CANARY)
    r = run("-s", "prod/none/*", "--", "true")
    assert r.returncode == 125
    assert r.stderr.count("\n") == 1 and "no secret matches secrets under 'prod/none/'" in r.stderr


def test_a_tag_selection(sm: Any, run: Run) -> None:
    sm.create_secret(Name="b1", SecretString='{"b1": "1"}', Tags=[{"Key": "app", "Value": "billing"}])
    sm.create_secret(Name="b2", SecretString='{"b2": "2"}', Tags=[{"Key": "app", "Value": "billing"}])
    sm.create_secret(Name="near", SecretString='{"near": "x"}', Tags=[{"Key": "app", "Value": "billing-old"}])
    r = run("-s", "sm://?tag:app=billing", "--", *CHILD)
    assert r.returncode == 0, r.stderr
    assert (r.env["B1"], r.env["B2"], "NEAR" in r.env) == ("1", "2", False)


def test_the_policy_for_a_prefix_reads_exactly_the_secrets_under_it(sm: Any, run: Run, iam: Any) -> None:
    sm.create_secret(Name="prod/app/db", SecretString=json.dumps({"password": CANARY}))
    sm.create_secret(Name="prod/app/api", SecretString='{"token": "t"}')
    sm.create_secret(Name="prod/apple", SecretString=json.dumps({"other": CANARY + "x"}))
    r = run("policy", "-s", "prod/app/*")
    assert r.returncode == 0, r.stderr
    document = json.loads(r.stdout)
    actions = {s["Action"]: s["Resource"] for s in document["Statement"]}
    assert actions["secretsmanager:GetSecretValue"] == [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/*"
    ]
    assert actions["secretsmanager:ListSecrets"] == "*"
    assert actions["secretsmanager:BatchGetSecretValue"] == "*"
    keys = iam(json.dumps(document))
    for batch in ("--batch", "--no-batch"):
        r = run(batch, "-s", "prod/app/*", "--", *CHILD, env=keys)
        assert r.returncode == 0, r.stderr
        assert (r.env["PASSWORD"], r.env["TOKEN"]) == (CANARY, "t")
    # The same policy does not reach a secret outside the prefix.
    r = run("-s", "prod/apple", "--", "true", env=keys)
    assert r.returncode == 125 and "access denied to secret 'prod/apple'" in r.stderr
    r.assert_no(CANARY)
    # Without ListSecrets neither the batch filter nor the fallback may list: one line says what is missing.
    reads_only = {"Version": "2012-10-17", "Statement": [s for s in document["Statement"] if "List" not in s["Sid"]]}
    reads_only_keys = iam(json.dumps(reads_only))
    for batch in ("--batch", "--no-batch"):  # the batch call's filter needs ListSecrets too, as in AWS
        r = run(batch, "-s", "prod/app/*", "--", "true", env=reads_only_keys)
        assert r.returncode == 125 and r.stderr.count("\n") == 1, r.stderr
        assert "access denied to secrets under 'prod/app/': the caller lacks secretsmanager:ListSecrets" in r.stderr
        r.assert_no(CANARY)


def test_watch_restarts_when_a_secret_is_added_under_the_prefix_or_removed(
    sm: Any, emulator: Emulator, tmp_path: Path
) -> None:
    sm.create_secret(Name="w/a", SecretString='{"other": "1"}')
    log = tmp_path / "log"
    p = start(emulator, "-s", "w/*", "--watch", "1", "--", *RESIDENT_CHILD, str(log), "trap")
    try:
        wait_for(lambda: bool(lines(log)))
        assert lines(log)[0].endswith(" ")  # no TOKEN yet
        sm.create_secret(Name="w/b", SecretString=json.dumps({"token": CANARY}))
        wait_for(lambda: any(x.endswith(CANARY) for x in lines(log)), timeout=15)
        sm.delete_secret(SecretId="w/b", ForceDeleteWithoutRecovery=True)
        wait_for(lambda: lines(log)[-1].startswith("start") and lines(log)[-1].endswith(" "), timeout=15)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=15)
    err = p.stderr.read().decode() if p.stderr else ""
    assert err.count("secrets under 'w/' changed") == 2
    assert CANARY not in err


def test_every_protected_name_of_a_run_is_refused_at_once_and_nothing_runs(sm: Any, run: Run, tmp_path: Path) -> None:
    # The report: ordinary keys of a secret set MAKEFLAGS, HOME, XDG_CONFIG_HOME, OPENSSL_CONF... One run
    # names every one, in every category, on one line; the command does not run.
    keys = {"makeflags": "--eval=$(shell touch marker)", "home": CANARY, "xdg_config_home": CANARY,
            "openssl_conf": CANARY, "sslkeylogfile": CANARY, "aws_endpoint_url_secrets_manager": CANARY,
            "npm_config_script_shell": CANARY, "ps1": CANARY, "ld_preload": CANARY, "token": "fine"}  # fmt: skip
    sm.create_secret(Name="evil", SecretString=json.dumps(keys))
    sm.create_secret(Name="proxy", SecretString=json.dumps({"http_proxy": CANARY}))
    marker = tmp_path / "ran"
    r = run("-s", "evil", "-s", "proxy", "--", "touch", str(marker))
    assert r.returncode == 125 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("envinject: secret 'evil' would set ")
    for name in [k.upper() for k in keys if k != "token"] + ["HTTP_PROXY"]:
        assert f" {name} (" in r.stderr and f"--allow {name}" in r.stderr
    for title in ("code loading", "shells and editors", "configuration and home", "build and package tools",
                  "network and TLS"):  # fmt: skip
        assert f"({title})" in r.stderr
    assert "secret 'proxy' would set HTTP_PROXY (network and TLS)" in r.stderr
    assert not marker.exists()
    r.assert_no(CANARY)
    # check reports each reference's refusal; --dry-run refuses as the run does; curl reads http_proxy in lower
    # case, so --name-case keep does not get it through.
    r = run("check", "-s", "evil", "-s", "proxy")
    assert r.returncode == 1 and r.stdout.count("PROTECTED") == 2
    r.assert_no(CANARY)
    r = run("--dry-run", "--name-case", "keep", "-s", "proxy", "--", "true")
    assert r.returncode == 125 and "http_proxy (network and TLS)" in r.stderr


def test_a_name_you_write_is_one_word_for_network_but_not_for_code(sm: Any, run: Run) -> None:
    sm.create_secret(Name="proxy", SecretString=json.dumps({"url": f"http://u:{CANARY}@proxy:3128"}))
    r = run("-s", "HTTPS_PROXY=proxy#url", "-s", "https_proxy=proxy#url", "--", *CHILD)
    assert r.returncode == 0, r.stderr
    assert r.env["HTTPS_PROXY"] == r.env["https_proxy"] == f"http://u:{CANARY}@proxy:3128"
    r = run("--", *CHILD, env={"PIP_INDEX_URL": "sm://proxy#url"})  # the environment's VAR=REF is as good
    assert r.returncode == 0, r.stderr
    r = run("-s", "NODE_OPTIONS=proxy#url", "--", "true")
    assert r.returncode == 125 and "NODE_OPTIONS (code loading)" in r.stderr and "--allow NODE_OPTIONS" in r.stderr
    assert "yourself" not in r.stderr
    r.assert_no(CANARY)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not on PATH")
def test_makeflags_from_a_key_would_run_a_command_under_make(sm: Any, run: Run, tmp_path: Path) -> None:
    # Why MAKEFLAGS is protected: with --allow (the deployer's word) the same secret does run its command.
    marker = tmp_path / "pwned"
    sm.create_secret(Name="build", SecretString=json.dumps({"makeflags": f"--eval=$(shell touch {marker})"}))
    (tmp_path / "Makefile").write_text("all:\n\t@true\n")
    shell = {"SHELL": shutil.which("sh") or "sh"}  # as in a login session: make reads MAKEFLAGS before its SHELL
    r = run("-s", "build", "--", "make", "-C", str(tmp_path), env=shell)
    assert r.returncode == 125 and "MAKEFLAGS (build and package tools)" in r.stderr
    assert not marker.exists()
    r = run("--allow", "MAKEFLAGS", "-s", "build", "--", "make", "-C", str(tmp_path), env=shell)
    assert r.returncode == 0, r.stderr
    assert marker.exists(), (r.stdout, r.stderr)
