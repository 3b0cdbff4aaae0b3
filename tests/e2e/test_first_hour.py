"""The small things a new user meets in the first hour: each one line that says what to do, before any request."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Result

Run = Callable[..., Result]
CANARY = "canary-first-hour-8d1"


@pytest.fixture
def apikeys(sm: Any) -> None:
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps({"openai": CANARY}))


def test_a_profile_from_the_config_file_is_named_in_the_hint(run: Run, tmp_path: Path) -> None:
    (tmp_path / "envinject.toml").write_text('profile = "nosuch"\n')
    r = run("-s", "APIKEYS", "--", "true", cwd=tmp_path, env={"AWS_PROFILE": None})
    assert r.returncode == 125
    assert f"check profile in '{tmp_path / 'envinject.toml'}' against ~/.aws/config" in r.stderr, r.stderr


def test_render_warns_about_a_file_git_would_commit(apikeys: None, run: Run, tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "t.json").write_text('{"k": {{ sm://APIKEYS#openai }}}\n')
    r = run("render", "t.json", "-o", "out.json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "out.json is in a git work tree and not ignored" in r.stderr
    (tmp_path / ".gitignore").write_text("out2.json\n")
    r = run("render", "t.json", "-o", "out2.json", cwd=tmp_path)
    assert (r.returncode, r.stderr) == (0, "")


def test_config_and_no_config_contradict(run: Run, tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text('secrets = ["APIKEYS"]\n')
    r = run("--config", str(tmp_path / "c.toml"), "--no-config", "--", "true")
    assert (r.returncode, r.stderr) == (
        125, "envinject: --config and --no-config contradict each other; give one of them\n"
    )  # fmt: skip


def test_github_mask_never_mixes_into_dotenv_text_on_stdout(apikeys: None, run: Run) -> None:
    r = run("export", "-s", "APIKEYS", "--github-mask")
    assert r.returncode == 125 and r.stdout == ""
    assert "--github-mask prints ::add-mask:: lines on stdout, where they would mix with the dotenv text" in r.stderr
    r = run("export", "-s", "APIKEYS", "-f", "github", "--github-mask")  # GitHub's own language, as before
    assert r.returncode == 0 and "::add-mask::" in r.stdout


@pytest.mark.parametrize("region", ["us-east-1a", "moon", "eu-west"])
def test_a_region_aws_does_not_have_fails_at_once(run: Run, region: str) -> None:
    r = run("-s", "APIKEYS", "--region", region, "--", "true", env={"AWS_ENDPOINT_URL": None})
    assert r.returncode == 125
    assert r.stderr.startswith("envinject: --region is not an AWS region name; for example eu-west-1"), r.stderr


def test_an_emulator_may_use_a_region_of_its_own(sm: Any, run: Run) -> None:
    r = run("-s", "APIKEYS", "--region", "local", "--", "true")  # the emulator's endpoint is set
    assert "not an AWS region" not in r.stderr


@pytest.mark.parametrize("case", ["Upper", "LOWER", "Keep"])
def test_name_case_takes_any_case(apikeys: None, run: Run, case: str) -> None:
    r = run("-s", "APIKEYS", "--name-case", case, "--dry-run", "--", "true")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\t")[0] == {"upper": "OPENAI", "lower": "openai", "keep": "openai"}[case.lower()]


def test_a_bad_per_reference_prefix_is_named(run: Run) -> None:
    r = run("-s", "Invalid-env_*=t1", "--", "true")
    assert r.returncode == 125
    assert "'Invalid-env_' cannot start a variable name" in r.stderr and "DB1_*=prod/db1" in r.stderr


def test_policy_without_credentials_says_it_describes(apikeys: None, run: Run) -> None:
    r = run("policy", "-s", "APIKEYS", "--account", "123456789012",
            env={"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None})  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "no AWS credentials were found to describe secret 'APIKEYS'" in r.stderr
    assert "to read" not in r.stderr


def test_an_empty_command_is_named_as_such(apikeys: None, run: Run) -> None:
    r = run("-s", "APIKEYS", "--", "")
    assert (r.returncode, r.stderr) == (
        125, "envinject: the command is an empty word; write envinject --secret NAME -- COMMAND [ARGS...]\n"
    )  # fmt: skip
