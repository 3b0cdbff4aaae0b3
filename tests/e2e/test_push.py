"""`envinject push` against moto_server, then a run that gives the file's values back exactly."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from tests.e2e.conftest import CHILD, Result

Run = Callable[..., Result]
CANARY = "canary-push-55"
ENV_FILE = f"""\
OPENAI=sk-{CANARY}
MULTI="line one
line two"
QUOTES='it"s $HOME ${{X}} `x`'
SPACES="  padded  "
EMPTY=
UNICODE=é🙂
"""


def test_create_update_merge_and_round_trip(sm: Any, run: Run, tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(ENV_FILE)
    expected = dotenv_values(path, interpolate=False)

    r = run("push", str(path), "--secret", "app/env", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "would create secret 'app/env'" in r.stdout
    assert "+ OPENAI" in r.stdout
    r.assert_no(CANARY)
    assert sm.list_secrets()["SecretList"] == []

    r = run("push", str(path), "-s", "app/env", "--description", "from .env")
    assert r.returncode == 0, r.stderr
    r.assert_no(CANARY)
    assert sm.describe_secret(SecretId="app/env")["Description"] == "from .env"
    assert json.loads(sm.get_secret_value(SecretId="app/env")["SecretString"]) == expected

    # The run gives back exactly what the file said.
    env = run("-s", "app/env", "--", *CHILD).env
    assert {k: env[k] for k in expected} == expected

    (tmp_path / "update.env").write_text("OPENAI=new\nADDED=1\n")
    r = run("push", str(tmp_path / "update.env"), "-s", "app/env", "--dry-run")
    assert "~ OPENAI" in r.stdout
    assert "+ ADDED" in r.stdout
    assert "- MULTI" in r.stdout
    r.assert_no(CANARY)
    r = run("push", str(tmp_path / "update.env"), "-s", "app/env", "--merge")
    assert r.returncode == 0, r.stderr
    stored = json.loads(sm.get_secret_value(SecretId="app/env")["SecretString"])
    assert stored == {**expected, "OPENAI": "new", "ADDED": "1"}
    r = run("push", str(tmp_path / "update.env"), "-s", "app/env")
    assert json.loads(sm.get_secret_value(SecretId="app/env")["SecretString"]) == {"OPENAI": "new", "ADDED": "1"}
    versions = sm.list_secret_version_ids(SecretId="app/env")["Versions"]
    assert len(versions) >= 3


def test_push_errors(sm: Any, run: Run, iam: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.env"
    bad.write_text(f"A={CANARY}\nB='open\n")
    r = run("push", str(bad), "-s", "x")
    assert r.returncode == 125
    assert f"{bad}:2" in r.stderr
    r.assert_no(CANARY)
    sm.create_secret(Name="plain", SecretString=CANARY)
    good = tmp_path / "good.env"
    good.write_text("A=1\n")
    r = run("push", str(good), "-s", "plain")
    assert r.returncode == 125
    assert "not a JSON object" in r.stderr
    r.assert_no(CANARY)
    keys = iam(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}))  # fmt: skip
    r = run("push", str(good), "-s", "newone", env=keys)
    assert r.returncode == 125
    assert "secretsmanager:CreateSecret" in r.stderr
    assert len(r.stderr.splitlines()) == 1


def test_dollar_braces_warn_by_name_or_expand_with_interpolate(sm: Any, run: Run, tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(
        f"USER_NAME=bot\nURL=https://${{USER_NAME}}:{CANARY}@h/${{DB:-app}}\nHOMEDIR=${{HOME}}/x\nPLAIN=$x\n"
    )
    r = run("push", str(path), "-s", "as-written")
    assert r.returncode == 0, r.stderr
    warning = r.stderr.splitlines()
    assert len(warning) == 1 and warning[0].startswith("envinject: HOMEDIR, URL: stored with ${...} as written")
    assert "--interpolate" in warning[0]
    r.assert_no(CANARY)
    stored = json.loads(sm.get_secret_value(SecretId="as-written")["SecretString"])
    assert stored == dotenv_values(path, interpolate=False)

    r = run("push", str(path), "-s", "expanded", "--interpolate", env={"HOME": "/home/bot", "DB": "prod"})
    assert r.returncode == 0 and r.stderr == ""
    stored = json.loads(sm.get_secret_value(SecretId="expanded")["SecretString"])
    assert stored == {
        "USER_NAME": "bot",
        "URL": f"https://bot:{CANARY}@h/prod",
        "HOMEDIR": "/home/bot/x",
        "PLAIN": "$x",
    }


def test_keys_that_differ_only_in_case_are_refused(sm: Any, run: Run, tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(f"token={CANARY}\nOTHER=1\nTOKEN={CANARY}2\n")
    r = run("push", str(path), "-s", "clash")
    assert r.returncode == 125 and len(r.stderr.splitlines()) == 1
    assert "'token' and 'TOKEN' differ only in case" in r.stderr
    r.assert_no(CANARY)
    assert sm.list_secrets()["SecretList"] == []


def test_a_latin1_file_gets_a_hint_for_push(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "latin1.env"
    path.write_bytes("CITY=Zürich\n".encode("latin-1"))
    r = run("push", str(path), "-s", "x")
    assert r.returncode == 125 and "not UTF-8" in r.stderr and "iconv" in r.stderr
    assert "--env-file" not in r.stderr
    r = run("push", str(tmp_path / "missing.env"), "-s", "x")
    assert r.returncode == 125 and "check the path given to push" in r.stderr and "--env-file" not in r.stderr


def test_identical_content_writes_nothing_and_says_unchanged(sm: Any, run: Run, tmp_path: Path) -> None:
    """A new version would restart every --watch on the secret for nothing."""
    path = tmp_path / ".env"
    path.write_text(ENV_FILE)
    assert run("push", str(path), "-s", "app/env").returncode == 0
    versions = [v["VersionId"] for v in sm.list_secret_version_ids(SecretId="app/env")["Versions"]]
    for args in (["--dry-run"], ["--merge", "--dry-run"], [], ["--merge"]):
        r = run("push", str(path), "-s", "app/env", *args)
        assert r.returncode == 0, r.stderr
        would = "would be" if "--dry-run" in args else "is"
        assert r.stdout == f"secret 'app/env' {would} unchanged: the file adds, changes and removes no key\n", args
        r.assert_no(CANARY)
    assert [v["VersionId"] for v in sm.list_secret_version_ids(SecretId="app/env")["Versions"]] == versions


def test_merge_dry_run_lists_what_it_would_update(sm: Any, run: Run, tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("A=1\nB=2\n")
    assert run("push", str(path), "-s", "app/env").returncode == 0
    path.write_text("B=3\n")
    r = run("push", str(path), "-s", "app/env", "--merge", "--dry-run")
    assert r.stdout == "would update secret 'app/env'\n  ~ B\n"


def test_a_missing_file_is_named_without_options_push_does_not_take(run: Run, tmp_path: Path) -> None:
    r = run("push", str(tmp_path / "nope.env"), "-s", "app/env")
    assert r.returncode == 125
    assert r.stderr.startswith(f"envinject: env file '{tmp_path / 'nope.env'}': No such file or directory;")
    assert "--env-file" not in r.stderr and r.stderr.count("\n") == 1


def test_an_exported_file_pushed_back_is_the_same_secret(sm: Any, run: Run, tmp_path: Path) -> None:
    """export, then push of what it wrote: the secret is unchanged (no new version), its keys keep their case,
    nesting and types; an edited value updates the key it came from."""
    document = {"openai": f"sk-{CANARY}", "Anthropic": "sk-ant-1", "db": {"host": "h", "port": 5432}, "on": True}
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps(document))
    for args in ([], ["--prefix", "APP_"], ["--name-case", "lower"]):
        out = tmp_path / f"app{''.join(args)}.env"
        r = run("export", "-s", "APIKEYS", *args, "-o", str(out))
        assert r.returncode == 0, r.stderr
        r = run("push", str(out), "--secret", "APIKEYS", *args)
        assert (r.returncode, r.stdout) == (0, "secret 'APIKEYS' is unchanged: the file adds, changes and removes "
                                               "no key\n"), r.stderr  # fmt: skip
        r.assert_no(CANARY)
    assert len(sm.list_secret_version_ids(SecretId="APIKEYS")["Versions"]) == 1
    edited = tmp_path / "app.env"
    lines = edited.read_text().splitlines()
    edited.write_text("".join("DB_HOST=h2\n" if line.startswith("DB_HOST=") else line + "\n" for line in lines))
    r = run("push", str(edited), "--secret", "APIKEYS")
    assert r.returncode == 0 and "  ~ db.host\n" in r.stdout, r.stdout + r.stderr
    stored = json.loads(sm.get_secret_value(SecretId="APIKEYS")["SecretString"])
    assert stored == {**document, "db": {"host": "h2", "port": 5432}}
