"""Every output format, fed to its real consumer: python-dotenv, bash and dash, json, and parsers written
here from the documented reading rules of docker and the GitHub runner."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from unittest import mock

import pytest
from dotenv import dotenv_values, load_dotenv
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from envinject.errors import ConfigError, EnvinjectError
from envinject.options import ExportOptions
from envinject.rules.formats import FORMATS, UnrepresentableError, docker, dotenv, github, jsonfmt, render, shell
from envinject.settings import Settings
from envinject.validate import validate
from tests.shells import SHELLS

# ---------------------------------------------------------------------------------------------------------
# Strategies: arbitrary Unicode without NUL or surrogates, salted with what breaks quoting.

_CHARS = st.characters(codec="utf-8", exclude_characters="\x00")  # utf-8: no surrogates
_TRICKY = [
    "'", '"', "\\", "$", "${X}", "${HOME}", "${A:-b}", "${:-}", "$X", "`id`", "$(id)", "#", " # ", "=", "==",
    "\n", "\r\n", "\r", "\n\n", " ", "  ", "\t", "\v", "\f", "😀", "é", "\u2028", "\x85", "\xa0", "\ufeff",
    "%", "%0A", "%0D", "%25", "::", "::add-mask::", "<<", "EOF", "ghadelimiter_", "\\'", '\\"', "\\n", "\\r",
    "'\\''", "export ", "{", "}", ":-", "!", "*", "~", ";",
]  # fmt: skip
VALUES = st.lists(st.one_of(st.sampled_from(_TRICKY), st.text(_CHARS, max_size=8)), max_size=12).map("".join)
NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True)
ENVS = st.dictionaries(NAMES, VALUES, max_size=6)
# For the shells: names that no shell treats specially (PPID, IFS, SHELLOPTS... are tested nowhere here).
SHELL_ENVS = st.lists(VALUES, max_size=10).map(lambda vs: {f"V_{i}": v for i, v in enumerate(vs)})
# Values made of what python-dotenv's interpolation looks at.
DOLLARISH = st.lists(st.sampled_from(["$", "{", "}", ":", "-", ":-", "${", "X", "\\", '"', "'", " ", "\n"]),
                     max_size=12).map("".join)  # fmt: skip

LONG = "0123456789abcdef'\"\\$`#=\t é😀\r\n" * 10_000  # 300 000 characters
REVERSED = {"ZED": "1", "ALPHA": "2", "_U": "3", "MID": "4"}


def test_registry_and_dispatch() -> None:
    assert set(FORMATS) == {"dotenv", "shell", "json", "docker", "github"}
    env = {"B": "2", "A": "1"}
    for name, fn in FORMATS.items():
        assert render(name, env) == fn(env)
    assert render("github", {"A": "x\ny"}, delimiter=lambda: "END") == "A<<END\nx\ny\nEND\n"
    with pytest.raises(ConfigError, match="unknown format 'yaml'") as e:
        validate(Settings(), ExportOptions(fmt="yaml"))
    assert "dotenv" in str(e.value)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_sorted_and_stable(fmt: str) -> None:
    kwargs = {"delimiter": lambda: "D"} if fmt == "github" else {}
    out = render(fmt, REVERSED, **kwargs)
    assert out == render(fmt, dict(sorted(REVERSED.items())), **kwargs)
    positions = [out.index(name) for name in sorted(REVERSED)]
    assert positions == sorted(positions)


@pytest.mark.parametrize("fmt", ["dotenv", "shell", "docker", "github"])
def test_empty_env(fmt: str) -> None:
    assert render(fmt, {}) == ""


def test_long_values() -> None:
    # Checked outside hypothesis, which would print a megabyte on failure.
    env = {"LONG": LONG, "ONE_LINE": LONG.replace("\r", "").replace("\n", "")}
    dotenv_env = {name: value.replace("\r", "").replace("'", "") for name, value in env.items()}
    assert dotenv_values(stream=io.StringIO(dotenv.render(dotenv_env)), interpolate=False) == dotenv_env
    assert json.loads(jsonfmt.render(env)) == env
    assert parse_github_env(github.render(env)) == env
    assert parse_masks(github.mask_commands(env)) == [LONG.split("\r\n")[0].strip(), env["ONE_LINE"]]


@pytest.mark.parametrize("sh", SHELLS)
def test_long_values_through_the_shell(sh: str) -> None:
    env = {"LONG": LONG, "ONE_LINE": LONG.replace("\r", "").replace("\n", "")}
    assert shell_eval(sh, "C.UTF-8", shell.render(env), list(env)) == [v.encode() for v in env.values()]


# ---------------------------------------------------------------------------------------------------------
# dotenv: python-dotenv, and a POSIX shell sourcing the file with `set -a; . ./.env`

#: What a shell would run or expand in a value, each with a side effect the tests look for (a file named ran).
SIDE_EFFECTS = ["$(touch ran)", "`touch ran`", "; touch ran", "\ntouch ran\n", "' ; touch ran ; '", '" ; touch ran ; "',
                "\\\"; touch ran; \"", "${X:=$(touch ran)}", "$((1))", "\\", "\\'", "'\\", "\\$"]  # fmt: skip
DOTENV_VALUES = st.lists(st.one_of(st.sampled_from(_TRICKY + SIDE_EFFECTS), st.text(_CHARS, max_size=8)),
                         max_size=8).map("".join)  # fmt: skip


def dotenv_can_hold(value: str) -> bool:
    """The documented class (README, export): no carriage return, and not both a `$` or backquote and a `'`, a
    double backslash or a final backslash."""
    expands = "$" in value or "`" in value
    escapes = "'" in value or "\\\\" in value or value.endswith("\\")
    return "\r" not in value and not (expands and escapes)


def writable(env: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in env.items() if dotenv_can_hold(value)}


def source_in(sh: str, folder: Path, text: str, names: list[str]) -> list[bytes]:
    """Write ``text`` to ``folder/.env``, source it with ``set -a; . ./.env`` in ``sh``, and return each variable's
    bytes as a command started afterwards sees them."""
    (folder / ".env").write_bytes(text.encode())
    script = "set -a; . ./.env; set +a; exec env -0"
    out = subprocess.run([sh, "-c", script], cwd=folder, capture_output=True, check=False,
                         env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}).stdout  # fmt: skip
    seen = dict(entry.split(b"=", 1) for entry in out.split(b"\0") if entry)
    return [seen.get(name.encode(), b"<unset>") for name in names]


def test_dotenv_examples() -> None:
    assert dotenv.render({"B": 'it\'s "x"', "A": "a\\b\nc", "E": "", "D": "$5 `id`", "R": "${HOME}"}) == (
        'A="a\\\\b\nc"\nB="it\'s \\"x\\""\nD=\'$5 `id`\'\nE=""\nR=\'${HOME}\'\n'
    )


@given(ENVS)
@example({"E": "", "S": "  lead and trail\t "})
@example({"A": "C:\\dir\\", "B": "next", "C": 'x"'})  # python-dotenv < 1.2.3 lost A and B
def test_dotenv_round_trip(env: dict[str, str]) -> None:
    text = dotenv.render(writable(env))
    assert dotenv_values(stream=io.StringIO(text), interpolate=False) == writable(env)


@given(ENVS)
def test_dotenv_round_trip_through_a_file(env: dict[str, str]) -> None:
    # Read from a path, python-dotenv opens the file in text mode: universal newlines turn a raw \r into
    # \n. No line of the file holds a raw \r: a value with one is refused.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, ".env")
        path.write_bytes(dotenv.render(writable(env)).encode())
        assert dotenv_values(path, interpolate=False) == writable(env)


@pytest.mark.parametrize("sh", SHELLS)
@settings(max_examples=150, deadline=None)
@given(st.lists(DOTENV_VALUES, max_size=8))
@example(["it's", "a$b", "$(touch ran)", "`touch ran`", "a\\b", "\\", "x\ny", 'say "hi"', "${HOME}", ""])
def test_dotenv_reads_the_same_in_python_dotenv_and_a_shell_and_runs_nothing(sh: str, values: list[str]) -> None:
    # The bug report: `set -a; . ./.env` ran $(...) and backquotes from a value. Now every value is read back
    # exactly by python-dotenv (from the file) and by bash and dash, and nothing runs; or it is refused.
    env = {f"V_{i}": v for i, v in enumerate(values) if dotenv_can_hold(v)}
    text = dotenv.render(env)
    with tempfile.TemporaryDirectory() as folder:
        assert source_in(sh, Path(folder), text, list(env)) == [v.encode() for v in env.values()]
        assert not Path(folder, "ran").exists(), "sourcing the .env ran a command"
        assert dotenv_values(Path(folder, ".env"), interpolate=False) == env


@given(NAMES, DOTENV_VALUES)
@example("PW", "it's $5")
@example("PW", "\\$")
@example("PW", "a\rb")
@example("PW", "a\\")
def test_dotenv_refuses_exactly_the_documented_class_naming_the_variable(name: str, value: str) -> None:
    if dotenv_can_hold(value):
        assert dotenv.render({name: value}).startswith(f"{name}=")
        return
    with pytest.raises(UnrepresentableError) as e:
        dotenv.render({"OK": "fine", name: value})
    assert e.value.message.startswith(f"{name} contains ")
    assert e.value.hint and "--format shell" in e.value.hint
    secret = value.strip()
    if len(secret) > 3:
        assert secret not in str(e.value)


@given(ENVS)
def test_dotenv_without_hazards_survives_interpolation(env: dict[str, str]) -> None:
    env = writable(env)
    hazards = set(dotenv.interpolation_hazards(env))
    loaded = dotenv_values(stream=io.StringIO(dotenv.render(env)))  # interpolate=True, the default
    assert {k: v for k, v in loaded.items() if k not in hazards} == {k: v for k, v in env.items() if k not in hazards}


@given(NAMES, st.one_of(DOLLARISH, VALUES))
@example("A", "${X}")
@example("A", "${A}")
@example("A", "'${X}'")
@example("A", "\\${X}")
@example("A", "$${X}")
@example("A", "${X:-${Y}}")
@example("A", "${X:y}")
@example("A", "${X")
@example("A", "$X")
@example("A", "$")
def test_interpolation_hazards_match_python_dotenv(name: str, value: str) -> None:
    # With nothing in the environment to substitute, a value changes exactly when it is named a hazard
    # (an expansion is always shorter than the `${...}` it replaces).
    assume(dotenv_can_hold(value))
    with mock.patch.dict(os.environ, clear=True):
        loaded = dotenv_values(stream=io.StringIO(dotenv.render({name: value})), interpolate=True)
    assert (loaded[name] != value) == (dotenv.interpolation_hazards({name: value}) == [name])


def test_no_dollar_escape_exists() -> None:
    # The evidence for the module's choice: neither quoting nor a backslash stops the expansion.
    with mock.patch.dict(os.environ, {"X": "expanded"}, clear=True):
        assert dotenv_values(stream=io.StringIO("A='${X}'\n")) == {"A": "expanded"}
        assert dotenv_values(stream=io.StringIO('A="\\${X}"\n')) == {"A": "\\expanded"}
        assert dotenv_values(stream=io.StringIO("A=$${X}\n")) == {"A": "$expanded"}


@pytest.mark.parametrize("sh", SHELLS)
def test_no_text_gives_both_readers_a_quote_and_a_dollar(sh: str) -> None:
    # The evidence for the refusal: each way of writing it('s $5) loses it for one reader or the other.
    value = "it's $5"
    candidates = ['"it\'s $5"', "'it\\'s $5'", "'it'\\''s $5'", '"it\'s \\$5"', "it\\'s\\ \\$5"]
    with tempfile.TemporaryDirectory() as folder:
        for text in candidates:
            read = {**{"V": None}, **dotenv_values(stream=io.StringIO(f"V={text}\n"), interpolate=False)}
            [shell_read] = source_in(sh, Path(folder), f"V={text}\n", ["V"])
            assert read["V"] != value or shell_read != value.encode(), text


def test_load_dotenv_and_hazards() -> None:
    env = {"PLAIN": "p$a ${x", "REF": "a ${HOME} b", "DEFAULT": "${NOPE:-d}"}
    assert dotenv.interpolation_hazards(env) == ["DEFAULT", "REF"]
    with mock.patch.dict(os.environ, {"HOME": "/root"}, clear=True):
        load_dotenv(stream=io.StringIO(dotenv.render(env)), override=True)
        assert os.environ["PLAIN"] == "p$a ${x"
        assert os.environ["REF"] == "a /root b"
        assert os.environ["DEFAULT"] == "d"


# ---------------------------------------------------------------------------------------------------------
# shell


def shell_eval(sh: str, locale: str, text: str, names: list[str]) -> list[bytes]:
    """Run ``eval "$(cat)"`` on ``text`` in ``sh``, and return each variable's bytes."""
    script = "eval \"$(cat)\"\nprintf '%s\\0' " + " ".join(f'"${name}"' for name in names) + "\n"
    if not names:
        script = 'eval "$(cat)"\n'
    result = subprocess.run(
        [sh, "-c", script],
        input=text.encode(),
        capture_output=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": locale},
        check=True,
    )
    assert result.stderr == b""
    return result.stdout.split(b"\0")[:-1]


def test_shell_examples() -> None:
    assert shell.render({"A": "it's", "B": ""}) == "export A='it'\\''s'\nexport B=''\n"


@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
@pytest.mark.parametrize("sh", SHELLS)
@settings(max_examples=50, deadline=None)
@given(SHELL_ENVS)
@example({"V_0": "", "V_1": "'", "V_2": "\r\n", "V_3": "a'b'\\'c"})
def test_shell_round_trip(sh: str, locale: str, env: dict[str, str]) -> None:
    names = list(env)
    assert shell_eval(sh, locale, shell.render(env), names) == [env[n].encode() for n in names]


@pytest.mark.parametrize("sh", SHELLS)
def test_shell_exports_to_children(sh: str) -> None:
    env = {"APP_TOKEN": "t'o\nk$en", "DB_URL": "postgres://u:p@h/db?x=1&y=2"}
    script = 'eval "$(cat)"; env -0'
    out = subprocess.run([sh, "-c", script], input=shell.render(env).encode(), capture_output=True, check=True)
    child = dict(entry.split(b"=", 1) for entry in out.stdout.split(b"\0") if entry)
    assert child[b"APP_TOKEN"] == env["APP_TOKEN"].encode()
    assert child[b"DB_URL"] == env["DB_URL"].encode()


# Shells to prove the shell format with: bash (also interactive: HISTCMD and MAILCHECK differ there) and dash.
SHELLS = {name: shutil.which(name) for name in ("bash", "dash")}
# Variables documented as special by bash or POSIX that a clean shell may not have set.
DOCUMENTED_SPECIALS = [
    "BASH_ARGV0", "BASH_REMATCH", "BASH_COMPAT", "BASH_XTRACEFD", "COMP_WORDBREAKS", "EPOCHREALTIME",
    "EPOCHSECONDS", "HISTCMD", "HISTFILE", "HISTSIZE", "IFS", "LINENO", "MAILCHECK", "OLDPWD", "OPTARG",
    "OPTIND", "PIPESTATUS", "POSIXLY_CORRECT", "PS4", "PWD", "REPLY", "SECONDS", "SHLVL", "SRANDOM", "TMOUT",
]  # fmt: skip


def shell_commands(sh: str) -> list[list[str]]:
    return [[sh, "-c"], [sh, "--norc", "--noprofile", "-i", "-c"]] if sh.endswith("bash") else [[sh, "-c"]]


def names_the_shell_does_not_keep(command: list[str], names: list[str]) -> set[str]:
    """The names for which an export line, then one more command, leaves another value (or fails)."""
    values = ["zq v", "7"]  # text, and a number for the integer variables
    lines = [
        f"( export {name}={shell.quote(value)}\n:\nprintf %s \"${name}\" ) 2>/dev/null; printf '\\0'"
        for name in names
        for value in values
    ]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent", "LC_ALL": "C"}
    out = subprocess.run([*command, "\n".join(lines)], capture_output=True, env=env, timeout=60).stdout
    got = out.decode().split("\0")[:-1]
    expected = [(name, value) for name in names for value in values]
    return {name for (name, value), seen in zip(expected, got, strict=True) if seen != value}


def test_shell_refuses_the_names_bash_and_dash_own() -> None:
    """Every variable the shells know, assigned through the shell format and read back: each one the shells do
    not keep is refused, and the read-only ones from the bug report are among them."""
    shells = [sh for sh in SHELLS.values() if sh]
    if not shells:
        pytest.skip("neither bash nor dash is on PATH")
    known = set(DOCUMENTED_SPECIALS) | shell.SHELL_OWNED
    for sh in shells:
        for command in shell_commands(sh):
            listing = subprocess.run([*command, "set"], capture_output=True, text=True, timeout=60).stdout
            known |= {line.split("=", 1)[0] for line in listing.splitlines() if re.match(r"[A-Za-z_]\w*=", line)}
    names = sorted(known)
    not_kept = set().union(*(names_the_shell_does_not_keep(c, names) for sh in shells for c in shell_commands(sh)))
    assert not_kept <= shell.SHELL_OWNED, (
        f"the shell format writes names the shell ignores: {not_kept - shell.SHELL_OWNED}"
    )
    if SHELLS["bash"]:
        assert {"UID", "EUID", "PPID", "BASHOPTS", "BASH_VERSINFO", "SHELLOPTS", "_", "RANDOM"} <= not_kept
    for name in shell.SHELL_OWNED:
        with pytest.raises(UnrepresentableError, match=rf"^{re.escape(name)} is a variable that bash"):
            shell.render({"FINE": "x", name: "secret-canary"})
    # Everything else a shell knows, and does not act on, goes through: the test above proves it keeps the value.
    assert shell.render({n: "v" for n in names if n not in shell.SHELL_OWNED and not shell.acted_on(n)})


@pytest.mark.parametrize("sh", ["bash", "dash"])
def test_shell_refusal_is_needed_for_uid(sh: str) -> None:
    # The bug report's case: a key `uid` became `export UID=...`, which bash refuses and dash accepts.
    path = SHELLS[sh]
    if path is None:
        pytest.skip(f"{sh} is not on PATH")
    script = "export UID='1234'\nprintf %s \"$UID\""
    out = subprocess.run([path, "-c", script], capture_output=True, text=True).stdout
    assert (out != "1234") == (sh == "bash")
    with pytest.raises(UnrepresentableError, match=r"^UID "):
        shell.render({"UID": "1234"})


#: Variables a clean bash or dash sets that it never acts on: it sets them for scripts to read.
INFORMATIONAL = {"BASH", "HOSTNAME", "HOSTTYPE", "MACHTYPE", "OSTYPE", "OPTARG", "REPLY"}


def test_every_variable_a_shell_has_is_owned_acted_on_or_only_informational() -> None:
    """The class, from the shells themselves: whatever a clean bash (also interactive) or dash has set is refused
    by the shell format, or is one of the few it only sets for scripts to read."""
    seen: set[str] = set(DOCUMENTED_SPECIALS)
    for sh in [s for s in SHELLS.values() if s]:
        for command in shell_commands(sh):
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent", "LC_ALL": "C"}
            listing = subprocess.run([*command, "set"], capture_output=True, text=True, timeout=60, env=env).stdout
            seen |= {line.split("=", 1)[0] for line in listing.splitlines() if re.match(r"[A-Za-z_]\w*=", line)}
    unclassified = {n for n in seen if n not in shell.SHELL_OWNED and not shell.acted_on(n)} - INFORMATIONAL
    assert not unclassified, f"variables a shell sets that the shell format writes: {sorted(unclassified)}"
    for name in INFORMATIONAL:
        assert shell.render({name: "v"}) == f"export {name}='v'\n"


#: What a shell does with each variable, shown by running it: (shell, name, value, a harmless value, the script
#: after the export line). The file "ran" appears when the shell acts on the value, and not with the harmless one.
#: {d} is the test's folder; {path} the PATH the shell starts with.
ACTED_ON = [
    ("bash -i", "PS1", "$(touch ran)", "$ ", ":"),  # every prompt
    ("bash -i", "PS0", "$(touch ran)", "", ":"),  # before each command
    ("bash -i", "PS2", "$(touch ran)", "> ", "echo 'a\nb'"),  # the continuation prompt
    ("bash -i", "PROMPT_COMMAND", "touch ran", ":", ":"),
    ("bash", "PS4", "$(touch ran)", "+ ", "set -x; :"),  # every traced command
    ("bash", "BASH_ENV", "{d}/rc", "/dev/null", "bash -c :"),  # sourced by every bash script the shell starts
    ("bash", "ENV", "{d}/rc", "/dev/null", "dash -i </dev/null"),  # sourced by every interactive sh it starts
    ("bash -i", "HISTFILE", "{d}/ran", "{d}/hist", "echo history; exit"),  # the history is written there
    ("bash -i", "MAILPATH", "{d}/mbox?$(touch ran)", "{d}/other", "MAILCHECK=0; sleep 1.1; echo x >> {d}/mbox\n:"),
    ("bash -i", "FCEDIT", "touch ran", "true", "fc"),  # fc runs it on the last command
    ("bash", "EDITOR", "touch ran", "true", "set -o history; history -s x; fc"),  # fc's editor without FCEDIT
    ("bash", "CDPATH", "{d}", "", "cd / && cd sub >/dev/null && touch ran"),  # cd goes elsewhere
    ("bash", "PATH", "{d}/bin", "{path}", "cmd"),  # which program a name runs
    ("bash", "IFS", "/", " ", "x=a/b; set -- $x; [ $# = 2 ] && touch ran"),  # how words split
    ("bash", "GLOBIGNORE", "*", "", "[ \"$(echo *)\" = '*' ] && touch ran"),  # what a glob finds
    ("bash", "HOME", "{d}/sub", "{d}", "cd && [ \"$PWD\" = {d}/sub ] && touch ran"),  # where cd goes
    ("bash", "TMOUT", "1", "0", "read -r x < <(sleep 2; echo y) || touch ran"),  # read (and the shell) time out
    ("dash -i", "PS1", "$(touch ran)", "$ ", ":"),
    ("dash", "PS4", "$(touch ran)", "+ ", "set -x; :"),
    ("dash", "ENV", "{d}/rc", "/dev/null", "dash -i </dev/null"),
    ("dash", "CDPATH", "{d}", "", "cd / && cd sub >/dev/null && touch ran"),
    ("dash", "HOME", "{d}/sub", "{d}", "cd && [ \"$PWD\" = {d}/sub ] && touch ran"),
]  # fmt: skip


@pytest.mark.slow  # a real, partly interactive, shell for each name
@pytest.mark.parametrize(
    ("sh", "name", "value", "harmless", "after"), ACTED_ON, ids=[f"{s}-{n}" for s, n, *_ in ACTED_ON]
)
def test_each_refused_name_is_acted_on_by_the_shell(
    sh: str, name: str, value: str, harmless: str, after: str, tmp_path: Path
) -> None:
    program, *flags = sh.split()
    path = SHELLS[program]
    if path is None or ("dash" in after and SHELLS["dash"] is None):
        pytest.skip("dash is not on PATH")
    assert path is not None
    with pytest.raises(UnrepresentableError, match=rf"\b{name}\b.*acts on") as info:
        shell.render({"FINE": "x", name: value})
    assert value not in str(info.value)
    (tmp_path / "rc").write_text(f"touch {tmp_path}/ran\n")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "cmd").write_text(f"#!/bin/sh\n: > {tmp_path}/ran\n")
    (tmp_path / "bin" / "cmd").chmod(0o755)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "LC_ALL": "C"}
    flags = ["--norc", "--noprofile", *flags] if program == "bash" else flags

    def ran(with_value: str) -> bool:
        for leftover in ("ran", "sub", "mbox"):
            shutil.rmtree(tmp_path / leftover) if (tmp_path / leftover).is_dir() else (tmp_path / leftover).unlink(True)
        (tmp_path / "sub").mkdir()
        (tmp_path / "mbox").write_text("")
        fill = {"{d}": str(tmp_path), "{path}": env["PATH"]}
        text, script = with_value, after
        for k, v in fill.items():
            text, script = text.replace(k, v), script.replace(k, v)
        # The line the shell format would write, were the name not refused.
        lines = f"cd {tmp_path}\nexport {name}={shell.quote(text)}\n{script}\n"
        subprocess.run([path, *flags], input=lines, capture_output=True, text=True, timeout=30, env=env, cwd=tmp_path)
        return (tmp_path / "ran").exists() or (tmp_path / "sub" / "ran").exists()

    assert not ran(harmless), "the script acts without the value: the test would prove nothing"
    assert ran(value)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(shell.SHELL_READ), st.from_regex(r"[A-Za-z0-9_]{0,8}", fullmatch=True))
def test_every_name_of_the_class_is_refused_and_no_value_is_shown(pattern: str, fill: str) -> None:
    name = pattern.replace("*", fill)
    with pytest.raises(UnrepresentableError) as info:
        shell.render({"APP_TOKEN": "ok", name: "canary-shell-7"})
    assert name in str(info.value) and "canary-shell-7" not in str(info.value)


def test_every_refused_name_is_named_at_once() -> None:
    env = {"UID": "1", "PS1": "x", "PROMPT_COMMAND": "x", "path": "x", "APP": "ok"}
    with pytest.raises(UnrepresentableError) as info:
        shell.render(env)
    message = str(info.value)
    assert message.startswith("UID is a variable that bash or dash keeps read-only")
    assert "PROMPT_COMMAND, PS1, path are variables that a shell acts on" in message
    assert "\n" not in message
    with pytest.raises(UnrepresentableError, match="and 80 more"):
        shell.render({f"LC_{i}": "x" for i in range(100)})


@pytest.mark.parametrize("name", ["APP_TOKEN", "DATABASE_URL", "USERNAME", "PASSWORD", "HOST", "OPENAI_API_KEY",
                                  "PATH_PREFIX", "HOMEPAGE", "LCD", "PS5", "TERMS"])  # fmt: skip
def test_ordinary_names_pass_the_shell_format(name: str) -> None:
    assert shell.render({name: "v"}) == f"export {name}='v'\n"


# ---------------------------------------------------------------------------------------------------------
# json


@given(ENVS)
def test_json_round_trip(env: dict[str, str]) -> None:
    text = jsonfmt.render(env)
    assert text.endswith("}\n")
    assert json.loads(text) == env
    assert list(json.loads(text)) == sorted(env)


def test_json_keeps_unicode() -> None:
    assert jsonfmt.render({"A": "é😀", "B": "x"}) == '{\n  "A": "é😀",\n  "B": "x"\n}\n'
    assert jsonfmt.render({}) == "{}\n"


# ---------------------------------------------------------------------------------------------------------
# docker: docker/cli pkg/kvfile (docker 28), read as Go reads it.

_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"  # noqa: E501
_SCANNER_MAX = 64 * 1024  # bufio.MaxScanTokenSize: a line and its \n must fit


def parse_docker_env_file(text: str) -> dict[str, str]:
    """``docker run --env-file``'s reading rules; ValueError where docker reports an error."""
    data = text.encode()
    lines = data.split(b"\n")
    if lines[-1] == b"":  # bufio.ScanLines yields no token after a final \n
        lines.pop()
    env: dict[str, str] = {}
    for number, raw in enumerate(lines, 1):
        if len(raw) + 1 > _SCANNER_MAX:
            raise ValueError("bufio.Scanner: token too long")
        if raw.endswith(b"\r"):  # ScanLines drops a \r before the \n
            raw = raw[:-1]
        line = raw.decode("utf-8")  # docker: "invalid utf8 bytes"
        if number == 1:
            line = line.removeprefix("\ufeff")
        line = line.lstrip(_GO_SPACE)
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not key or " " in key or "\t" in key:
            raise ValueError(f"bad key on line {number}")
        if not sep:
            raise ValueError("a bare name takes the value from docker's environment; never written here")
        env[key] = value
    return env


def test_docker_parser_follows_docker() -> None:
    text = '\ufeff# comment\n\n   LEAD=  x  \nHASH=#not a comment # at all\nQ="q"\nCR=v\r\nEQ=a=b\n'
    assert parse_docker_env_file(text) == {"LEAD": "  x  ", "HASH": "#not a comment # at all", "Q": '"q"',
                                           "CR": "v", "EQ": "a=b"}  # fmt: skip
    with pytest.raises(ValueError, match="token too long"):
        parse_docker_env_file("A=" + "x" * (_SCANNER_MAX - 2) + "\n")


def _docker_can_hold(env: Mapping[str, str]) -> bool:
    return all(
        "\n" not in v and "\r" not in v and len(f"{k}={v}".encode()) <= docker.MAX_LINE_BYTES for k, v in env.items()
    )


@given(ENVS)
@example({"SPACES": "  lead, trail \t", "HASHES": "#x # y", "QUOTES": "\"q\" 'q'", "E": ""})
def test_docker_round_trip_or_refusal(env: dict[str, str]) -> None:
    if _docker_can_hold(env):
        assert parse_docker_env_file(docker.render(env)) == env
    else:
        with pytest.raises(UnrepresentableError) as e:
            docker.render(env)
        assert any(e.value.message.startswith(f"{name} ") for name in env)


@pytest.mark.parametrize("value", ["line1\nline2", "trailing\n", "a\r\nb", "cr\r", "\n"])
def test_docker_refuses_line_breaks(value: str) -> None:
    secret = value.replace("\n", "SECRET").replace("\r", "SECRET")
    with pytest.raises(UnrepresentableError) as e:
        docker.render({"OK": "fine", "PEM_KEY": value, "ZZ": "fine"})
    err = e.value
    assert isinstance(err, EnvinjectError)
    assert err.message == "PEM_KEY contains a line break, which the docker env-file format cannot hold"
    assert err.hint and "docker run -e" in err.hint
    assert secret not in str(err) and value not in str(err)


def test_docker_line_length_limit() -> None:
    longest = "x" * (docker.MAX_LINE_BYTES - len("K="))
    assert parse_docker_env_file(docker.render({"K": longest})) == {"K": longest}
    # Multi-byte characters count in bytes, as Go counts them.
    emoji = "😀" * ((docker.MAX_LINE_BYTES - 2) // 4)
    assert parse_docker_env_file(docker.render({"K": emoji})) == {"K": emoji}
    with pytest.raises(UnrepresentableError, match=r"^K is too long for the docker env-file format"):
        docker.render({"K": longest + "x"})
    with pytest.raises(UnrepresentableError, match=r"^K is too long"):
        docker.render({"K": emoji + "😀"})
    with pytest.raises(ValueError, match="token too long"):  # what docker would have said
        parse_docker_env_file("K=" + longest + "x\n")


# ---------------------------------------------------------------------------------------------------------
# github: actions/runner SetEnvFileCommand (Linux and macOS runners) and ActionCommand.TryParseV2.


def _read_line(text: str, index: int) -> tuple[str | None, int, str | None]:
    if index >= len(text):
        return None, index, None
    lf = text.find("\n", index)
    if lf < 0:
        return text[index:], len(text), None
    return text[index:lf], lf + 1, "\n"


def parse_github_env(text: str) -> dict[str, str]:
    """The runner's reading of ``$GITHUB_ENV``; ValueError where the runner fails the step."""
    env: dict[str, str] = {}
    line, index, _ = _read_line(text, 0)
    while line is not None:
        if line:
            equals, heredoc = line.find("="), line.find("<<")
            if equals >= 0 and (heredoc < 0 or equals < heredoc):
                name, value = line.split("=", 1)
            elif heredoc >= 0 and (equals < 0 or heredoc < equals):
                name, delimiter = line.split("<<", 1)
                if not name or not delimiter:
                    raise ValueError("empty name or delimiter")
                start = end = index
                current, index, newline = _read_line(text, index)
                while current != delimiter:
                    if current is None or newline is None:
                        raise ValueError(f"matching delimiter not found {delimiter!r}")
                    end = index - len(newline)
                    current, index, newline = _read_line(text, index)
                value = text[start:end] if end > start else ""
            else:
                raise ValueError(f"invalid format {line!r}")
            env[name] = value
        line, index, _ = _read_line(text, index)
    return env


def parse_masks(text: str) -> list[str]:
    """The data of each ``::add-mask::`` command, unescaped in the runner's order."""
    masks = []
    for line in text.split("\n")[:-1]:
        assert line.startswith("::add-mask::")
        data = line.removeprefix("::add-mask::")
        assert data.strip(), "the runner refuses to mask whitespace"
        masks.append(data.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%"))
    return masks


def test_github_examples() -> None:
    env = {"ONE": "a=b<<c", "EMPTY": "", "PEM": "-----BEGIN-----\nabc\n-----END-----\n"}
    assert github.render(env, delimiter=lambda: "EOF") == (
        "EMPTY=\nONE=a=b<<c\nPEM<<EOF\n-----BEGIN-----\nabc\n-----END-----\n\nEOF\n"
    )
    assert github.render({"CR": "a\rb"}, delimiter=lambda: "EOF") == "CR<<EOF\na\rb\nEOF\n"
    token = github.new_delimiter()
    assert token.startswith("ghadelimiter_") and len(token) == len("ghadelimiter_") + 32
    assert token != github.new_delimiter()


@given(ENVS)
@example({"N": "\n", "NN": "\n\n", "CR": "\r", "CRLF": "x\r\n", "E": ""})
def test_github_round_trip(env: dict[str, str]) -> None:
    assert parse_github_env(github.render(env)) == env


def test_github_delimiter_never_in_value() -> None:
    offered = iter(["EOF", "OF", "SAFE"])
    value = "first line\nEOF\nlast"
    out = github.render({"V": value}, delimiter=lambda: next(offered))
    assert out == "V<<SAFE\nfirst line\nEOF\nlast\nSAFE\n"
    assert parse_github_env(out) == {"V": value}


def test_github_masks_examples() -> None:
    env = {"B": "-----BEGIN-----\r\n  abc  \n\n   \n-----END-----\n", "A": "50%\ncost", "C": "", "D": " \t "}
    assert github.mask_commands(env) == (
        "::add-mask::50%25\n::add-mask::cost\n::add-mask::-----BEGIN-----\n::add-mask::abc\n::add-mask::-----END-----\n"
    )


@given(ENVS)
def test_github_masks_cover_every_line(env: dict[str, str]) -> None:
    masks = parse_masks(github.mask_commands(env))
    assert len(masks) == len(set(masks))
    for value in env.values():
        for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
            if line.strip():
                assert any(mask in line for mask in masks)
                assert line.strip() in masks


@given(st.text(_CHARS))
def test_github_escape_data_round_trip(text: str) -> None:
    escaped = github.escape_data(text)
    assert "\n" not in escaped and "\r" not in escaped
    assert escaped.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%") == text


def test_no_value_in_any_error() -> None:
    secret = "hunter2-\nsecret"
    for fmt in FORMATS:
        try:
            render(fmt, {"PASSWORD": secret})
        except EnvinjectError as e:
            assert "hunter2" not in str(e)
            assert "PASSWORD" in str(e)
