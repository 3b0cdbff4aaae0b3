"""First contact: the help a new user reads and the one-line usage errors, from the installed command."""

from __future__ import annotations

import os
import re
import subprocess
from typing import Any

import pytest

from tests.e2e.conftest import ENVINJECT

COMMANDS = ["run", "export", "render", "check", "policy", "push", "diff"]


def envinject(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ENVINJECT, *args], capture_output=True, text=True, timeout=30, env=env)


def test_top_level_help_shows_the_run_usage_its_options_and_the_commands() -> None:
    p = envinject("--help")
    assert p.returncode == 0, p.stderr
    assert "Usage: envinject [OPTIONS] -- COMMAND [ARGS]..." in p.stdout
    for option in ("--secret", "--env-file", "--prefix", "--require", "--region", "--timeout", "--dry-run",
                   "--watch", "--verbose", "--version"):  # fmt: skip
        assert re.search(rf"^\s+(-\w, )?{option}\b", p.stdout, re.M), option
    commands = p.stdout.split("Commands:")[1]
    for command in COMMANDS:
        assert re.search(rf"^\s+{command}\s", commands, re.M), command


def test_bare_envinject_prints_its_usage_to_stderr_with_exit_2() -> None:
    p = envinject()
    assert p.returncode == 2
    assert p.stdout == ""
    assert p.stderr.startswith("Usage: envinject [OPTIONS] -- COMMAND [ARGS]...\n")
    assert "envinject --help" in p.stderr
    assert "envinject: " not in p.stderr  # not an error line
    assert len(p.stderr.splitlines()) <= 4


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)], ids=["top", *COMMANDS])
def test_help_shows_no_raw_placeholders(command: list[str]) -> None:
    p = envinject(*command, "--help")
    assert p.returncode == 0, p.stderr
    for raw in (r"<\w[\w ]*>", r"\{\w+\}", r"\[x[<>]=", r"range\b"):
        assert not re.search(raw, p.stdout), (raw, p.stdout)


@pytest.mark.parametrize(
    "args",
    [["push"], ["push", "a.env"], ["--bogus"], ["run", "--timeout", "soon"], ["--watch"], ["export", "-f"],
     ["--timeout", "0"], ["--max-attempts", "0"]],
)  # fmt: skip
def test_a_usage_error_is_one_line_without_a_doubled_stop(args: list[str]) -> None:
    p = envinject(*args)
    assert p.returncode == 125
    assert p.stdout == ""
    assert p.stderr.startswith("envinject: ") and p.stderr.count("\n") == 1, p.stderr
    assert ".;" not in p.stderr and ".." not in p.stderr, p.stderr


def test_a_value_below_the_minimum_says_the_minimum_in_words() -> None:
    assert "from 0.1 to 86400, not 0" in envinject("--timeout", "0", "--", "true").stderr
    assert "from 1 to 100, not 0" in envinject("--max-attempts", "0", "--", "true").stderr


def test_an_unknown_option_suggests_only_a_close_one() -> None:
    bogus = envinject("--bogus", "--", "true").stderr
    assert "--verbose" not in bogus and "Possible" not in bogus
    assert "No such option: --bogus" in bogus
    assert "did you mean --secret?" in envinject("--secrte", "APIKEYS", "--", "true").stderr
    assert "did you mean --env-file?" in envinject("--env", "a.env", "--", "true").stderr


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete -o default -F _envinject_completion envinject"),
                                               ("zsh", "#compdef envinject"),
                                               ("fish", "complete --command envinject")])  # fmt: skip
@pytest.mark.parametrize("form", ["--show-completion={}", "--show-completion {}"])
def test_show_completion_honours_its_argument(shell: str, marker: str, form: str) -> None:
    """Whatever shell typer would detect from the parent process, the one named wins."""
    env = {k: v for k, v in os.environ.items() if k != "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"}
    p = envinject(*form.format(shell).split(), env=env)
    assert p.returncode == 0, p.stderr
    assert marker in p.stdout


def test_show_completion_rejects_an_unknown_shell() -> None:
    p = envinject("--show-completion", "cmd.exe")
    assert p.returncode == 125
    assert "bash, zsh, fish" in p.stderr and p.stderr.count("\n") == 1


def test_help_texts_say_what_the_options_do() -> None:
    run = " ".join(envinject("run", "--help").stdout.split())
    assert "AWS_DEFAULT_REGION" in run
    assert "AWS_ENDPOINT_URL_SSM" in run and "AWS_ENDPOINT_URL_SECRETS_MANAGER" in run
    push = " ".join(envinject("push", "--help").stdout.split())
    timeout = push.split("--timeout")[1].split("--")[0]
    assert "fetch" not in timeout and "push" in timeout
    assert "Usage: envinject push [OPTIONS] FILE" in push


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["exprot", "-s", "APIKEYS"], "unknown command 'exprot' (did you mean export?); see envinject --help"),
        (["polcy", "-s", "APIKEYS"], "unknown command 'polcy' (did you mean policy?); see envinject --help"),
        (["rendr", "t.json"], "unknown command 'rendr' (did you mean render?); see envinject --help"),
        (["--timeout", "2", "export", "-s", "APIKEYS"],
         "options of export go after the word export: envinject export [OPTIONS]; see envinject export --help"),
        (["-o", "x.env", "export", "-s", "APIKEYS"],
         "options of export go after the word export: envinject export [OPTIONS]; see envinject export --help"),
        (["-vs", "APIKEYS", "check"],
         "options of check go after the word check: envinject check [OPTIONS]; see envinject check --help"),
        (["--kms-key", "k", "policy", "-s", "APIKEYS"],
         "options of policy go after the word policy: envinject policy [OPTIONS]; see envinject policy --help"),
    ],
)  # fmt: skip
def test_a_mistyped_or_misplaced_command_is_one_line_and_2(args: list[str], line: str, tmp_path: Any) -> None:
    r = subprocess.run([ENVINJECT, *args], capture_output=True, text=True, timeout=30, cwd=tmp_path,
                       env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)})  # fmt: skip
    assert (r.returncode, r.stdout, r.stderr) == (2, "", f"envinject: {line}\n")


def test_help_as_a_word_is_the_help(tmp_path: Any) -> None:
    assert envinject("help").stdout == envinject("--help").stdout
    assert envinject("help", "export").stdout == envinject("export", "--help").stdout
    assert envinject("help").returncode == 0


@pytest.mark.parametrize("name", ["check", "export", "exporter"])
def test_a_program_named_like_a_command_still_runs(name: str, tmp_path: Any) -> None:
    """A program on PATH is run as it always was, even when its name is, or is close to, a command's (a command's
    own name first is that command, as always)."""
    program = tmp_path / "bin" / name
    program.parent.mkdir()
    program.write_text('#!/bin/sh\necho ran "$0" "$@"\n')
    program.chmod(0o755)
    env = {"PATH": f"{program.parent}:{os.environ['PATH']}", "HOME": str(tmp_path)}
    bare = [] if name in ("check", "export") else [[name, "a"]]
    for args in [*bare, ["--no-resolve-env", name, "a"], ["--", name, "a"]]:
        r = subprocess.run([ENVINJECT, *args], capture_output=True, text=True, timeout=30, env=env, cwd=tmp_path)
        assert (r.returncode, r.stdout) == (0, f"ran {program} a\n"), r.stderr


def _listed_options(help_text: str) -> set[str]:
    """The options an --help lists: each row of its option sections, long and short names and --no- forms."""
    rows = re.findall(r"^  (-[^\n]*?)(?:  |\n)", help_text.split("Options:")[-1], re.M)
    return {name for row in rows for name in re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", row.split("  ")[0])}


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_lists_exactly_the_options_it_accepts(command: str) -> None:
    from typer.main import get_command

    from envinject.cli import app

    accepted = {
        name
        for param in get_command(app).commands[command].params  # type: ignore[attr-defined]
        for name in (*param.opts, *param.secondary_opts)
        if name.startswith("-")
    } | {"-h", "--help"}  # click adds the help option itself
    assert _listed_options(envinject(command, "--help").stdout) == accepted


@pytest.mark.parametrize("command", ["export", "render"])
def test_export_and_render_take_no_file_secrets(command: str, tmp_path: Any) -> None:
    """File secrets exist only while a command runs: neither lists --file, and both refuse it."""
    r = envinject(command, *(["t.json"] if command == "render" else []), "--file", "X=APIKEYS")
    assert r.returncode == 125 and "No such option: --file" in r.stderr


def test_the_command_summaries_are_whole_sentences() -> None:
    commands = envinject("--help").stdout.split("Commands:")[1]
    summaries = re.findall(r"^  (\w+)\s+(.+)$", commands, re.M)
    assert {name for name, _ in summaries} == set(COMMANDS)
    for name, summary in summaries:
        assert summary.endswith(".") and not summary.endswith("..."), (name, summary)
        assert summary[0].isupper(), (name, summary)
