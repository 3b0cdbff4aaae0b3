"""`envinject export` end to end: every format read back by its consumer, safe files, warnings."""

import json
import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dotenv import dotenv_values

from tests.e2e.conftest import CHILD, Result
from tests.shells import SHELLS

Run = Callable[..., Result]
VALUES = {
    "plain": "sk-canary-export",
    "quotes": 'it\'s "both" `cmd` $HOME ${HOME} \\ # = ',
    "multi": "line one\nline two\r\nend",
    "spaces": "  padded\t",
    "empty": "",
    "unicode": "é🙂",
    # Values that are references elsewhere stay text when read back (a quoted env-file value is literal).
    "db_secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:app",
    "other": "sm://app",
    "param": "ssm:///app/url",
    "windows": "C:\\dir\\",
}
EXPECTED = {k.upper(): v for k, v in VALUES.items()}
#: What a .env can give both python-dotenv and a shell: VALUES without a carriage return, and with the quote and
#: the dollars of "quotes" in two values (no .env text carries a `'` and a `$` to both).
DOTENV_VALUES = {**VALUES, "quotes": 'it\'s "both" \\ # = ', "dollars": '"both" `cmd` $HOME ${HOME} # = ',
                 "multi": "line one\nline two\nend"}  # fmt: skip
DOTENV_EXPECTED = {k.upper(): v for k, v in DOTENV_VALUES.items()}


@pytest.fixture
def secret(sm: Any) -> None:
    sm.create_secret(Name="app", SecretString=json.dumps(VALUES))
    sm.create_secret(Name="dotenv", SecretString=json.dumps(DOTENV_VALUES))


def test_dotenv_round_trips_through_dotenv_and_env_file(secret: None, run: Run, tmp_path: Path) -> None:
    out = tmp_path / "prod.env"
    r = run("export", "-s", "dotenv", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "DOLLARS contains ${...}" in r.stderr
    r.assert_no(*[v for v in DOTENV_VALUES.values() if len(v) > 3])
    assert dotenv_values(out, interpolate=False) == DOTENV_EXPECTED
    env = run("--env-file", str(out), "--", *CHILD, env={"HOME": "/somewhere"}).env
    assert {k: env[k] for k in DOTENV_EXPECTED} == DOTENV_EXPECTED


@pytest.mark.parametrize("shell", SHELLS)
def test_dotenv_sourced_by_a_shell_reads_the_same_and_runs_nothing(
    secret: None, run: Run, tmp_path: Path, shell: str
) -> None:
    # `set -a; . ./.env` is how many users load a .env: the backquotes and $HOME of DOLLARS stay text.
    assert run("export", "-s", "dotenv", "-o", str(tmp_path / ".env")).returncode == 0
    script = "set -a; . ./.env; set +a; exec env -0"
    out = subprocess.run([shell, "-c", script], cwd=tmp_path, capture_output=True, check=True).stdout
    env = dict(entry.decode().split("=", 1) for entry in out.split(b"\0") if entry)
    assert {k: env[k] for k in DOTENV_EXPECTED} == DOTENV_EXPECTED


def test_dotenv_refuses_what_no_env_text_carries_naming_it(secret: None, run: Run, tmp_path: Path) -> None:
    out = tmp_path / "prod.env"
    r = run("export", "-s", "app", "-o", str(out))
    assert (r.returncode, r.stdout) == (125, "") and not out.exists()
    assert r.stderr.startswith("envinject: MULTI contains a carriage return") and "--format shell" in r.stderr
    assert len(r.stderr.splitlines()) == 1
    r.assert_no(*[v for v in VALUES.values() if len(v) > 3])
    r = run("export", "-s", "QUOTES=app#quotes")
    assert r.returncode == 125 and r.stderr.startswith("envinject: QUOTES contains both a $ or backquote and a '")
    r.assert_no(VALUES["quotes"].strip())


@pytest.mark.parametrize("shell", SHELLS)
def test_shell_round_trips_through_bash_and_dash(secret: None, run: Run, tmp_path: Path, shell: str) -> None:
    # Through a file: captured text output would turn the value's \r\n into \n.
    assert run("export", "-s", "app", "--format", "shell", "-o", str(tmp_path / "env.sh")).returncode == 0
    text = (tmp_path / "env.sh").read_bytes().decode()
    script = text + 'printf \'%s\\0\' "$PLAIN" "$QUOTES" "$MULTI" "$SPACES" "$EMPTY" "$UNICODE"'
    out = subprocess.run([shell, "-c", script], capture_output=True, check=True).stdout
    got = out.decode().split("\0")[:-1]
    assert got == [EXPECTED[n] for n in ("PLAIN", "QUOTES", "MULTI", "SPACES", "EMPTY", "UNICODE")], shell


def test_json(secret: None, run: Run) -> None:
    assert json.loads(run("export", "-s", "app", "-f", "json").stdout) == EXPECTED


def test_shell_refuses_a_name_bash_keeps_read_only(sm: Any, run: Run, tmp_path: Path) -> None:
    sm.create_secret(Name="ids", SecretString=json.dumps({"uid": "canary-uid-4711", "name": "bot"}))
    out = tmp_path / "env.sh"
    r = run("export", "-s", "ids", "--format", "shell", "-o", str(out))
    assert r.returncode == 125 and not out.exists()
    assert (
        r.stderr.startswith("envinject: UID is a variable that bash or dash keeps read-only") and "--prefix" in r.stderr
    )
    assert len(r.stderr.splitlines()) == 1
    r.assert_no("canary-uid-4711")
    r = run("export", "-s", "ids", "--prefix", "APP_", "--format", "shell")
    assert r.returncode == 0 and "export APP_UID='canary-uid-4711'" in r.stdout


def test_docker_refuses_a_newline_naming_the_variable(secret: None, run: Run, sm: Any) -> None:
    r = run("export", "-s", "app", "-f", "docker")
    assert r.returncode == 125
    assert "MULTI" in r.stderr
    r.assert_no("line one")
    sm.create_secret(Name="single", SecretString=json.dumps({"a": " x # y ${Z} 'q' "}))
    r = run("export", "-s", "single", "-f", "docker")
    assert r.stdout == "A= x # y ${Z} 'q' \n"


def test_github_env_file_and_masks(secret: None, run: Run, tmp_path: Path) -> None:
    github_env = tmp_path / "github_env"
    r = run("export", "-s", "app", "--format", "github", "-o", str(github_env), "--github-mask", "--force")
    assert r.returncode == 0, r.stderr
    masks = r.stdout.splitlines()
    assert "::add-mask::sk-canary-export" in masks
    assert "::add-mask::line one" in masks
    text = github_env.read_text()
    assert "MULTI<<ghadelimiter_" in text
    assert "PLAIN=sk-canary-export\n" in text


def test_file_is_private_even_under_umask_0_and_not_overwritten(secret: None, run: Run, tmp_path: Path) -> None:
    out = tmp_path / "x.env"
    old = os.umask(0)
    try:
        assert run("export", "-s", "dotenv", "-o", str(out)).returncode == 0
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o600
    out.write_text("KEEP=1\n")
    r = run("export", "-s", "dotenv", "-o", str(out))
    assert r.returncode == 125
    assert "--force" in r.stderr
    assert out.read_text() == "KEEP=1\n"
    assert run("export", "-s", "dotenv", "-o", str(out), "--force").returncode == 0
    assert dotenv_values(out, interpolate=False) == DOTENV_EXPECTED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.env"]


def test_warns_when_git_would_commit_the_file(secret: None, run: Run, tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    r = run("export", "-s", "dotenv", "-o", str(tmp_path / "prod.env"))
    assert "not ignored" in r.stderr
    (tmp_path / ".gitignore").write_text("*.env\n")
    r = run("export", "-s", "dotenv", "-o", str(tmp_path / "other.env"))
    assert "not ignored" not in r.stderr


def test_dash_means_stdout(secret: None, run: Run, tmp_path: Path) -> None:
    r = run("export", "-s", "app", "-f", "json", "-o", "-", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == EXPECTED
    assert list(tmp_path.iterdir()) == []  # no file named "-"


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_a_target_that_is_not_a_regular_file_is_refused_naming_what_it_is(
    secret: None, run: Run, tmp_path: Path, force: list[str]
) -> None:
    # A device made here, never the machine's own /dev/null, which a regression would replace.
    null, fifo, link = tmp_path / "null", tmp_path / "fifo", tmp_path / "stdout"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.mkfifo(fifo)
    link.symlink_to("/proc/self/fd/1")
    for target, kind in ((null, "a character device"), (fifo, "a named pipe (FIFO)"), (link, "a symbolic link")):
        r = run("export", "-s", "app", "-o", str(target), "--github-mask", *force)
        assert (r.returncode, r.stdout) == (125, "")
        assert (
            r.stderr == f"envinject: {target} is {kind}, not a regular file; name a regular file, or write -o - "
            "for stdout\n"
        )
    assert stat.S_ISCHR(null.lstat().st_mode) and stat.S_ISFIFO(fifo.lstat().st_mode) and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "null", "stdout"]


def test_an_empty_output_is_refused_before_anything_is_fetched_or_printed(run: Run, tmp_path: Path) -> None:
    # As `-o "$GITHUB_ENV"` outside GitHub Actions: no secret exists, so a fetch would fail differently.
    for force in ([], ["--force"]):
        r = run("export", "-s", "nosuchsecret", "-f", "github", "-o", "", "--github-mask", *force, cwd=tmp_path)
        assert (r.returncode, r.stdout) == (125, "")
        assert r.stderr.startswith("envinject: -o was given an empty file name; is $GITHUB_ENV set?")
        assert len(r.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_masks_are_printed_only_once_the_file_is_written(secret: None, run: Run, tmp_path: Path) -> None:
    (tmp_path / "env").mkdir()
    r = run("export", "-s", "app", "-f", "github", "-o", str(tmp_path / "env" / "x" / "y"), "--github-mask")
    assert (r.returncode, r.stdout) == (125, "")
    assert "No such file or directory" in r.stderr
    # A target that cannot be written is found before any secret is fetched.
    r = run("export", "-s", "nosuchsecret", "-o", str(tmp_path / "env" / "x" / "y"))
    assert r.stderr == f"envinject: cannot write {tmp_path / 'env' / 'x' / 'y'}: No such file or directory\n"


def test_shell_refuses_every_name_a_shell_acts_on(sm: Any, run: Run, tmp_path: Path) -> None:
    # TMOUT would end the user's shell after a second idle, PS1 run its $(...) at every prompt (once allowed as a
    # protected name), MAIL point the mail check elsewhere: eval'd, these change the shell, so all are refused.
    keys = {"tmout": "1", "mail": "canary-mail-311", "ps1": "$(touch pwned)", "token": "t"}
    sm.create_secret(Name="prompt", SecretString=json.dumps(keys))
    out = tmp_path / "env.sh"
    r = run("export", "--allow", "PS1", "-s", "prompt", "--format", "shell", "-o", str(out))
    assert r.returncode == 125 and r.stdout == "" and not out.exists()
    assert r.stderr.startswith("envinject: MAIL, PS1, TMOUT are variables that a shell acts on")
    assert len(r.stderr.splitlines()) == 1
    r.assert_no("canary-mail-311", "$(touch pwned)")
    assert run("export", "--allow", "PS1", "-s", "prompt", "--format", "dotenv").returncode == 0
    r = run("export", "--allow", "PS1", "-s", "prompt", "--prefix", "APP_", "--format", "shell")
    assert r.returncode == 0 and "export APP_PS1='$(touch pwned)'" in r.stdout
