"""Templates: parsing, the format a file's name gives, a tag's own format, and every escaper alone proven through
its real parser (json, PyYAML, bash, urllib, python-dotenv, tomllib, configparser) with arbitrary values. Where
each tag stands in its file is tested in test_contexts.py."""

from __future__ import annotations

import configparser
import io
import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml
from dotenv import dotenv_values
from hypothesis import given, settings
from hypothesis import strategies as st

from envinject.errors import ConfigError, SecretFormatError
from envinject.rules.template import ESCAPERS, Tag, check_template, format_for, parse_template, render_template
from tests import readers
from tests.shells import SHELLS
from tests.unit.test_contexts import ini_holds, tomllib
from tests.unit.test_formats import dotenv_can_hold

_CHARS = st.characters(codec="utf-8", exclude_characters="\x00")
_TRICKY = ['"', "'", "\\", ":", "%", "@", "#", "{{", "}}", "\n", "\r", "\t", "\x85", "\u2028", "\ufeff", "\ufffe",
           " ", "- ", "? ", "&a", "*a", "!", "|", ">", "$", "`", "${X}", "\x7f", "\x1b[31m", "😀", "é"]  # fmt: skip
VALUES = st.lists(st.one_of(st.sampled_from(_TRICKY), st.text(_CHARS, max_size=8)), max_size=12).map("".join)


def one(template: str, value: str, fmt: str) -> str:
    parsed = parse_template(template, "t")
    [ref] = parsed.refs
    return render_template(parsed, {ref: value}, {}, fmt)


@given(VALUES)
@settings(max_examples=300)
def test_json_reads_back(value: str) -> None:
    assert json.loads(one('{"password": {{ sm://db#password }}}', value, "json")) == {"password": value}


@given(VALUES)
@settings(max_examples=300)
def test_yaml_reads_back(value: str) -> None:
    text = one("db:\n  password: {{ sm://db#password }}\n  port: 5432\n", value, "yaml")
    assert yaml.safe_load(text) == {"db": {"password": value, "port": 5432}}


@given(VALUES)
@settings(max_examples=300)
def test_url_reads_back(value: str) -> None:
    text = one("postgres://app:{{ sm://db#password | url }}@db:5432/app", value, "raw")
    userinfo = text.removeprefix("postgres://app:").removesuffix("@db:5432/app")
    assert "@" not in userinfo and "/" not in userinfo and ":" not in userinfo
    assert unquote(userinfo, errors="strict") == value


@given(VALUES)
@settings(max_examples=300)
def test_dotenv_reads_back(value: str) -> None:
    if not dotenv_can_hold(value):  # the class no .env text gives python-dotenv and a shell alike
        with pytest.raises(SecretFormatError, match=r"^t:1: the value contains "):
            one("PASSWORD={{ sm://db#password }}\nNEXT=1\n", value, "dotenv")
        return
    text = one("PASSWORD={{ sm://db#password }}\nNEXT=1\n", value, "dotenv")
    assert dotenv_values(stream=io.StringIO(text), interpolate=False) == {"PASSWORD": value, "NEXT": "1"}


@given(VALUES)
@settings(max_examples=300)
def test_toml_reads_back(value: str) -> None:
    text = one("[db]\npassword = {{ sm://db#password }}\nport = 5432\n", value, "toml")
    assert tomllib.loads(text) == {"db": {"password": value, "port": 5432}}


@given(VALUES)
@settings(max_examples=300)
def test_ini_reads_back_or_is_refused(value: str) -> None:
    try:
        text = one("[db]\npassword = {{ sm://db#password }}\nport = 5432\n", value, "ini")
    except SecretFormatError as e:
        assert not ini_holds(value, True, True) and e.message.startswith("t:2: the value contains ")
        return
    assert ini_holds(value, True, True)
    for parser in (configparser.ConfigParser(), configparser.RawConfigParser()):
        parser.read_string(text)
        assert dict(parser["db"]) == {"password": value, "port": "5432"}


@given(st.lists(VALUES, min_size=1, max_size=5))
@settings(max_examples=50, deadline=None)
def test_shell_reads_back_in_bash(values: list[str]) -> None:
    lines = "".join(f"V{i}={{{{ sm://db#k{i} }}}}\nprintf '%s\\0' \"$V{i}\"\n" for i in range(len(values)))
    parsed = parse_template(lines, "t")
    text = render_template(parsed, dict(zip(parsed.refs, values, strict=True)), {}, "shell")
    out = subprocess.run(["bash", "-c", text], capture_output=True, check=True).stdout
    assert out.split(b"\0")[:-1] == [v.encode() for v in values]


@pytest.mark.skipif(shutil.which("dash") is None, reason="dash is not installed")
def test_shell_reads_back_in_dash() -> None:
    value = 'it\'s "$HOME" `id` \\ \n ${X}'
    text = one("V={{ sm://db#k }}\nprintf '%s' \"$V\"\n", value, "shell")
    assert subprocess.run(["dash", "-c", text], capture_output=True, check=True, text=True).stdout == value


def test_raw_is_as_is_and_variables_come_from_the_run() -> None:
    parsed = parse_template('host={{HOST}} pw={{ sm://db#pw }} lit={{ "{{" }}', "t")
    [ref] = parsed.refs
    assert render_template(parsed, {ref: 'a"b'}, {"HOST": "db:1"}, "raw") == 'host=db:1 pw=a"b lit={{'
    assert parsed.variables == ["HOST"]


@pytest.mark.parametrize(
    ("fmt", "template", "rendered"),
    [
        # A tag's format encodes the value; the result is then written for the file's reader where the tag stands.
        ("url", "{{ sm://db#pw | json }} {{ sm://db#pw }}", "%22x%20y%22 x%20y"),
        ("shell", "V={{ sm://db#pw | json }}", "V='\"x y\"'"),
        ("yaml", "a: {{ sm://db#pw | url }}", 'a: "x%20y"'),
        ("yaml", "a: b{{ sm://db#pw | url }}", "a: bx%20y"),
        ("json", '{"a": "{{ sm://db#pw | shell }}"}', '{"a": "\'x y\'"}'),
        # The same format as the file's is the file's, written where the tag stands; raw is written as it is.
        ("shell", 'V="{{ sm://db#pw | shell }}"', 'V="x y"'),
        ("yaml", "a: {{ sm://db#pw | raw }}", "a: x y"),
        (None, "a: {{ sm://db#pw | yaml }}", 'a: "x y"'),
    ],
)
def test_a_tag_format_encodes_then_the_file_format_writes(fmt: str | None, template: str, rendered: str) -> None:
    parsed = parse_template(template, "t")
    assert render_template(parsed, dict.fromkeys(parsed.refs, "x y"), {}, fmt) == rendered


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.json", "json"),
        ("b.YAML", "yaml"),
        ("c.yml", "yaml"),
        ("d.sh", "shell"),
        ("d.bash", "shell"),
        ("dir/.envrc", "shell"),
        ("e.env", "dotenv"),
        (".env", "dotenv"),
        (".env.production", "dotenv"),
        (".env.json", "json"),
        ("pyproject.toml", "toml"),
        ("tox.ini", "ini"),
        ("setup.cfg", "ini"),
        (".npmrc", "npmrc"),
        ("/etc/npmrc", "npmrc"),
        ("app.properties", "properties"),
        ("config.yaml.tpl", "yaml"),
        ("config.json.tmpl", "json"),
        (".env.template", "dotenv"),
        ("setup.cfg.in", "ini"),
        ("nginx.conf", None),
        ("notes.txt", None),
        ("Dockerfile", None),
        (".tpl", None),
        ("yaml", None),
        ("a.json/b", None),
    ],
)
def test_the_file_name_gives_the_format(name: str, fmt: str | None) -> None:
    assert format_for(name) == fmt


def test_raw_is_never_chosen_for_the_user() -> None:
    # A name that gives no format: each tag names one, or the render names one (raw among them), else an error
    # naming the first bare tag's line, before any value is known.
    parsed = parse_template("user {{ sm://db#user | url }}\npass {{ sm://db#pw }}\n", "nginx.conf")
    with pytest.raises(ConfigError, match=r"^nginx.conf:2: the template's name gives no format") as e:
        check_template(parsed, None)
    assert "--format" in str(e.value) and "| FORMAT" in str(e.value)
    assert render_template(parsed, dict.fromkeys(parsed.refs, "a b"), {}, "raw") == "user a%20b\npass a b\n"
    named = parse_template('user {{ sm://db#user | url }} {{ "{{" }}\n', "nginx.conf")
    check_template(named, None)
    assert render_template(named, dict.fromkeys(named.refs, "a b"), {}, None) == "user a%20b {{\n"


def test_a_literal_tag_is_text_wherever_it_stands() -> None:
    # {{ "{{" }} writes no value: a comment may hold one.
    parsed = parse_template('# use {{ "{{" }} here\nV={{ sm://db#pw }}\n', "t.sh")
    check_template(parsed, "shell")
    assert render_template(parsed, dict.fromkeys(parsed.refs, "x"), {}, "shell") == "# use {{ here\nV='x'\n"


def test_a_rendered_env_warns_of_what_load_dotenv_would_expand() -> None:
    # As export does, with the same function: each line with a tag whose text python-dotenv's interpolation
    # would rewrite, named by its line, never the value.
    template = "A={{ sm://db#a }}\nB={{ sm://db#b }}\nC={{ sm://db#c | url }}\nD='{{ sm://db#d }} {{ sm://db#e }}'\n"
    parsed = parse_template(template, "t.env")
    heard: list[str] = []
    values = dict(zip(parsed.refs, ["${HOME}-canary", "plain $HOME", "${HOME}", "a", "${X}"], strict=True))
    text = render_template(parsed, values, {}, "dotenv", heard.append)
    warning = "the value contains ${...}: read it with dotenv_values(interpolate=False) or envinject --env-file; "
    assert heard == [f"t.env:{n}: {warning}load_dotenv() would expand it" for n in (1, 4)]
    assert dotenv_values(stream=io.StringIO(text), interpolate=False) == {
        "A": "${HOME}-canary", "B": "plain $HOME", "C": "%24%7BHOME%7D", "D": "a ${X}"}  # fmt: skip
    raw = parse_template("A=x{{ sm://db#a | raw }}\n", "t.env")  # raw, by request: what is written is checked
    render_template(raw, dict.fromkeys(raw.refs, "${HOME} ${X}"), {}, "dotenv", heard.append)
    assert heard[2:] == [f"t.env:1: {warning}load_dotenv() would expand it"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a\n{{ sm://db#pw", "t:2: '{{' opens no tag"),
        ("{{ nope nope }}", "t:1: a tag holds"),
        ("x\ny\n{{ sm://db#pw | xml }}", "t:3: unknown format 'xml'"),
        ("{{ ssm:///app/ }}", "t:1: a tag takes one value"),
        ("{{ sm://A=B#c }}", None),
        ("{{ sm://bad name }}", "t:1: reference"),
    ],
)
def test_errors_name_the_line(text: str, message: str | None) -> None:
    if message is None:  # sm://A=B is a secret named A=B, as everywhere
        assert parse_template(text, "t").refs[0].locator.secret_id == "A=B"
        return
    with pytest.raises(ConfigError, match=message.replace("|", r"\|").replace("{", r"\{")):
        parse_template(text, "t")


def test_a_missing_variable_is_an_error_naming_it() -> None:
    parsed = parse_template("x\n{{ NOPE }}", "t")
    with pytest.raises(ConfigError, match="t:2: NOPE is not set"):
        render_template(parsed, {}, {}, "raw")


def test_every_escaper_is_tested() -> None:
    # Each is proven alone above (npmrc and properties through npm and java in test_contexts.py).
    assert set(ESCAPERS) == {"raw", "json", "yaml", "shell", "url", "dotenv", "toml", "ini", "npmrc", "properties"}
    assert all(isinstance(p, (str, Tag)) for p in parse_template("a {{ X }} b", "t").parts)


# ---------------------------------------------------------------------------------------------------------
# The reported breaks, each through the format the file's name gives.


def by_name(name: str, template: str, value: str) -> str:
    parsed = parse_template(template, name)
    check_template(parsed, format_for(name))
    return render_template(parsed, dict.fromkeys(parsed.refs, value), {}, format_for(name))


@pytest.mark.parametrize("sh", SHELLS)
def test_reported_a_double_quoted_tag_in_a_sh_runs_nothing(sh: str, tmp_path: Path) -> None:
    value = '$(touch ran) `touch ran` "; touch ran; " \\'
    script = by_name("env.sh", 'export PW="{{ sm://db#pw }}"\nprintf %s "$PW"\n', value)
    out = subprocess.run([sh, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert out == value and not (tmp_path / "ran").exists()


def test_reported_an_npm_token_cannot_add_a_setting() -> None:
    # `npm run` ran script-shell from a line feed in a token; each line of the .npmrc is the template's own now.
    template = "//registry.npmjs.org/:_authToken={{ sm://npm#token }}\nalways-auth=true\n"
    text = by_name(".npmrc", template, "npm_abc\nscript-shell=/tmp/evil.sh")
    assert [line.partition("=")[0] for line in text.splitlines()] == ["//registry.npmjs.org/:_authToken", "always-auth"]
    npm = readers.npm()
    if npm is not None:  # npm's own reading, where node and npm are installed
        try:
            assert npm.read(text)["npm"]["//registry.npmjs.org/:_authToken"] == "npm_abc\nscript-shell=/tmp/evil.sh"
        finally:
            npm.close()


def test_reported_a_toml_value_cannot_add_a_table() -> None:
    value = '"x"\n[tool.evil]\nrun = "sh -c id"'
    text = by_name("pyproject.toml", "[tool.app]\ntoken = {{ sm://app#token }}\n", value)
    assert tomllib.loads(text) == {"tool": {"app": {"token": value}}}


def test_reported_a_yaml_tag_in_a_plain_scalar_is_not_cut() -> None:
    # The value is written there only when nothing in it ends the scalar; here " #" would: refused, with the line.
    with pytest.raises(SecretFormatError, match=r"^db.yaml:2: the value contains a blank") as e:
        by_name("db.yaml", "name: app\nurl: postgres://app:{{ sm://db#pw }}@db/app\n", "p #canary")
    assert "canary" not in str(e.value)
    text = by_name("db.yaml", "url: postgres://app:{{ sm://db#pw }}@db/app\n", "p%23w")
    assert yaml.safe_load(text) == {"url": "postgres://app:p%23w@db/app"}
