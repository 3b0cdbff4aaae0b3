"""Rendered config files end to end: envinject render, --file VAR=@TEMPLATE, check and policy, and --watch
rewriting a rendered file in place."""

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomllib
import yaml

from tests.e2e.conftest import ENVINJECT, Result, base_env
from tests.emulator import Emulator

Run = Callable[..., Result]
PASSWORD = 'p@ss:w"o%rd\\canary\n'
YAML_TEMPLATE = """database:
  password: {{ sm://prod/db#password }}
  url: postgres://app:{{ sm://prod/db#password | url }}@db:5432/app
  level: {{ LEVEL }}
"""


@pytest.fixture
def db(sm: Any) -> Any:
    sm.create_secret(Name="prod/db", SecretString=json.dumps({"password": PASSWORD, "user": "app"}))
    return sm


def test_render_to_stdout_escapes_for_the_files_format(db: Any, run: Run, tmp_path: Path) -> None:
    (tmp_path / "db.yaml").write_text(YAML_TEMPLATE)
    r = run("render", str(tmp_path / "db.yaml"), env={"LEVEL": "info"})
    assert r.returncode == 0, r.stderr
    parsed = yaml.safe_load(r.stdout)["database"]
    assert parsed["password"] == PASSWORD
    assert parsed["url"].startswith("postgres://app:p%40ss%3Aw%22o%25rd") and parsed["url"].endswith("@db:5432/app")
    assert parsed["level"] == "info"
    assert PASSWORD not in r.stderr


def test_render_to_a_file_is_private_and_refuses_to_overwrite(db: Any, run: Run, tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text('{"password": {{ sm://prod/db#password }}}')
    out = tmp_path / "out.json"
    r = run("render", str(tmp_path / "t.json"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text()) == {"password": PASSWORD}
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert r.stdout == "" and PASSWORD not in r.stderr
    again = run("render", str(tmp_path / "t.json"), "-o", str(out))
    assert again.returncode == 125 and "--force" in again.stderr
    assert run("render", str(tmp_path / "t.json"), "-o", str(out), "--force").returncode == 0


def test_format_option_wins_over_the_file_name(db: Any, run: Run, tmp_path: Path) -> None:
    (tmp_path / "t.conf").write_text("PASSWORD={{ sm://prod/db#password }}\n")
    r = run("render", str(tmp_path / "t.conf"), "--format", "shell")
    assert r.returncode == 0, r.stderr
    p = subprocess.run(["bash", "-c", r.stdout + 'printf %s "$PASSWORD"'], capture_output=True, text=True)
    assert p.stdout == PASSWORD


def test_a_missing_key_writes_nothing(db: Any, run: Run, tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text("a: {{ sm://prod/db#user }}\nb: {{ sm://prod/db#nope }}\n")
    out = tmp_path / "out.yaml"
    r = run("render", str(tmp_path / "t.yaml"), "-o", str(out))
    assert r.returncode == 125
    assert "nope" in r.stderr and not out.exists() and r.stdout == ""
    assert PASSWORD not in r.stderr


def test_an_unset_variable_and_a_bad_tag_name_the_line(db: Any, run: Run, tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("ok\n{{ NOT_SET_ANYWHERE }}\n")
    r = run("render", str(tmp_path / "t.txt"), "-f", "raw")  # a .txt gives no format: raw is asked for
    assert r.returncode == 125 and "t.txt:2: NOT_SET_ANYWHERE is not set" in r.stderr and r.stdout == ""
    (tmp_path / "u.txt").write_text("{{ what is this }}\n")
    r = run("render", str(tmp_path / "u.txt"))
    assert r.returncode == 125 and "u.txt:1: a tag holds" in r.stderr


def test_variables_of_the_run_include_its_secrets(db: Any, run: Run, tmp_path: Path) -> None:
    (tmp_path / "t.env").write_text("USER={{ USER_NAME }}\n")
    r = run("render", str(tmp_path / "t.env"), "-s", "USER_NAME=prod/db#user")
    assert r.returncode == 0, r.stderr
    assert r.stdout == 'USER="app"\n'


def test_a_rendered_file_secret(db: Any, run: Run, tmp_path: Path) -> None:
    (tmp_path / "db.yaml").write_text(YAML_TEMPLATE)
    code = "import os, sys; sys.stdout.write(open(os.environ['DB_CONFIG']).read())"
    r = run("--file", f"DB_CONFIG=@{tmp_path / 'db.yaml'}", "--", sys.executable, "-c", code, env={"LEVEL": "debug"})
    assert r.returncode == 0, r.stderr
    assert yaml.safe_load(r.stdout)["database"]["password"] == PASSWORD
    assert yaml.safe_load(r.stdout)["database"]["level"] == "debug"
    dry = run("--file", f"DB_CONFIG=@{tmp_path / 'db.yaml'}", "--dry-run", "--", "true", env={"LEVEL": "x"})
    assert dry.returncode == 0 and f"DB_CONFIG\t<- template:{tmp_path / 'db.yaml'}" in dry.stdout
    assert PASSWORD not in dry.stdout + dry.stderr


def test_check_lists_the_templates_references(db: Any, run: Run, tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text("a: {{ sm://prod/db#user }}\nb: {{ sm://prod/db#nope }}\n")
    r = run("check", "--file", f"CFG=@{tmp_path / 't.yaml'}")
    assert r.returncode == 1
    assert f"{tmp_path / 't.yaml'}:1 (sm://prod/db#user)" in r.stdout
    assert "KEY MISSING" in r.stdout and f"{tmp_path / 't.yaml'}:2" in r.stdout
    assert "CFG <- template:" in r.stdout
    assert PASSWORD not in r.stdout


def test_policy_covers_the_templates_references(db: Any, run: Run, tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text("a: {{ sm://prod/db#user }}\n")
    r = run("policy", "--account", "123456789012", "--file", f"CFG=@{tmp_path / 't.yaml'}")
    assert r.returncode == 0, r.stderr
    assert "secret:prod/db-??????" in r.stdout


def test_watch_rewrites_a_rendered_file_and_signals(db: Any, emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text('{"password": {{ sm://prod/db#password }}}')
    log = tmp_path / "log"
    child = (
        "import json, os, signal, sys, time\n"
        "def read(*_):\n"
        "    with open(sys.argv[1], 'a') as f:\n"
        "        f.write(json.dumps([os.getpid(), json.load(open(os.environ['CFG']))['password']]) + '\\n')\n"
        "signal.signal(signal.SIGHUP, read)\nread()\nwhile True:\n    time.sleep(0.05)\n"
    )
    p = subprocess.Popen([ENVINJECT, "--watch", "1", "--on-change", "signal:SIGHUP", "--file",
                          f"CFG=@{tmp_path / 't.json'}", "--", sys.executable, "-c", child, str(log)],
                         env=base_env(emulator), stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip

    def entries() -> list[Any]:
        return [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []

    def wait(n: int) -> None:
        deadline = time.monotonic() + 20
        while len(entries()) < n:
            assert time.monotonic() < deadline and p.poll() is None, "timed out"
            time.sleep(0.05)

    try:
        wait(1)
        assert entries()[0][1] == PASSWORD
        db.put_secret_value(SecretId="prod/db", SecretString=json.dumps({"password": "new-canary", "user": "app"}))
        wait(2)
        assert entries()[1] == [entries()[0][0], "new-canary"]  # same process, new content
    finally:
        p.send_signal(signal.SIGTERM)
        p.communicate(timeout=30)
    assert os.path.exists(tmp_path / "t.json")


# The reported breaks, end to end: rendered files that became code, and what render says about them.
HOSTILE = '$(touch ran) `touch ran` "; touch ran; " ${HOME} canary'


@pytest.fixture
def hostile(sm: Any) -> Any:
    sm.create_secret(Name="h", SecretString=json.dumps({"pw": HOSTILE, "token": "npm_canary\nscript-shell=/tmp/x.sh"}))
    return sm


@pytest.mark.parametrize("shell", ["bash", "dash"])
def test_a_rendered_sh_with_a_double_quoted_tag_runs_nothing(
    hostile: Any, run: Run, tmp_path: Path, shell: str
) -> None:
    if shutil.which(shell) is None:
        pytest.skip("dash is not installed")
    (tmp_path / "env.sh").write_text("export PW=\"{{ sm://h#pw }}\"\nexport Q='{{ sm://h#pw }}'\n")
    r = run("render", str(tmp_path / "env.sh"), "-o", str(tmp_path / "out.sh"))
    assert r.returncode == 0, r.stderr
    script = '. ./out.sh; printf "%s\\0" "$PW" "$Q"'
    out = subprocess.run([shell, "-c", script], cwd=tmp_path, capture_output=True, check=True).stdout
    assert out.split(b"\0")[:-1] == [HOSTILE.encode()] * 2
    assert not (tmp_path / "ran").exists()
    r.assert_no("canary")


def test_a_rendered_file_secret_is_written_for_where_its_tags_stand(hostile: Any, run: Run, tmp_path: Path) -> None:
    (tmp_path / "env.sh").write_text('PW="{{ sm://h#pw }}"\n')
    code = "import os, sys; sys.stdout.write(open(os.environ['CFG']).read())"
    r = run("--file", f"CFG=@{tmp_path / 'env.sh'}", "--", sys.executable, "-c", code)
    assert r.returncode == 0, r.stderr
    assert r.stdout == 'PW="\\$(touch ran) \\`touch ran\\` \\"; touch ran; \\" \\${HOME} canary"\n'


def test_a_tag_where_nothing_can_be_written_is_refused_before_any_fetch(run: Run, tmp_path: Path) -> None:
    # No secret named nosuch exists: the template is refused first, naming its line, and nothing is written.
    (tmp_path / "t.sh").write_text("#!/bin/sh\ncat <<EOF\n{{ sm://nosuch#pw }}\nEOF\n")
    out = tmp_path / "out.sh"
    r = run("render", str(tmp_path / "t.sh"), "-o", str(out))
    assert (r.returncode, r.stdout) == (125, "") and not out.exists()
    assert r.stderr == f"envinject: {tmp_path / 't.sh'}:3: a tag cannot stand in a here-document; write the value " \
        'into a variable first (NAME={{ ... }}) and use "$NAME" there\n'  # fmt: skip


def test_a_value_that_cannot_stand_where_its_tag_is_names_the_line_not_the_value(
    hostile: Any, run: Run, tmp_path: Path
) -> None:
    (tmp_path / "db.yaml").write_text("name: app\nurl: postgres://app:{{ sm://h#pw }}@db/app\n")
    out = tmp_path / "out.yaml"
    r = run("render", str(tmp_path / "db.yaml"), "-o", str(out))
    assert (r.returncode, r.stdout) == (125, "") and not out.exists()
    assert r.stderr.startswith(f"envinject: {tmp_path / 'db.yaml'}:2: the value contains a blank")
    assert len(r.stderr.splitlines()) == 1
    r.assert_no("canary", "touch ran")


def test_npmrc_and_toml_values_add_no_line(hostile: Any, run: Run, tmp_path: Path) -> None:
    (tmp_path / ".npmrc").write_text("//registry.npmjs.org/:_authToken={{ sm://h#token }}\n")
    r = run("render", str(tmp_path / ".npmrc"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == '//registry.npmjs.org/:_authToken="npm_canary\\nscript-shell=/tmp/x.sh"\n'
    (tmp_path / "pyproject.toml").write_text("[tool.app]\ntoken = {{ sm://h#token }}\n")
    r = run("render", str(tmp_path / "pyproject.toml"))
    assert r.returncode == 0, r.stderr
    assert tomllib.loads(r.stdout) == {"tool": {"app": {"token": "npm_canary\nscript-shell=/tmp/x.sh"}}}


def test_render_of_a_env_warns_as_export_does(hostile: Any, run: Run, tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text("A=1\nPW={{ sm://h#pw }}\n")
    r = run("render", str(tmp_path / "app.env"))
    assert r.returncode == 0, r.stderr
    warning = "the value contains ${...}: read it with dotenv_values(interpolate=False) or envinject --env-file; "
    assert r.stderr == f"envinject: {tmp_path / 'app.env'}:2: {warning}load_dotenv() would expand it\n"
    assert r.stdout == f"A=1\nPW='{HOSTILE}'\n"
    assert "canary" not in r.stderr


def test_a_name_that_gives_no_format_needs_one(db: Any, run: Run, tmp_path: Path) -> None:
    (tmp_path / "auth.conf").write_text("user app;\npassword {{ sm://prod/db#user }};\n")
    r = run("render", str(tmp_path / "auth.conf"))
    assert (r.returncode, r.stdout) == (125, "")
    assert f"{tmp_path / 'auth.conf'}:2: the template's name gives no format" in r.stderr and "--format" in r.stderr
    r = run("render", str(tmp_path / "auth.conf"), "--format", "raw")
    assert (r.returncode, r.stdout) == (0, "user app;\npassword app;\n")
