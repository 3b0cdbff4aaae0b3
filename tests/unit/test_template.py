"""Templates: parsing, and every escaper proven through its real parser (json, PyYAML, bash, urllib,
python-dotenv) with arbitrary values."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from urllib.parse import unquote

import pytest
import yaml
from dotenv import dotenv_values
from hypothesis import given, settings
from hypothesis import strategies as st

from envinject.errors import ConfigError
from envinject.rules.template import ESCAPERS, Tag, format_for, parse_template, render_template

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
    text = one("PASSWORD={{ sm://db#password }}\nNEXT=1\n", value, "dotenv")
    assert dotenv_values(stream=io.StringIO(text), interpolate=False) == {"PASSWORD": value, "NEXT": "1"}


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


def test_a_tag_format_wins_over_the_default() -> None:
    parsed = parse_template("{{ sm://db#pw | json }} {{ sm://db#pw }}", "t")
    assert render_template(parsed, dict.fromkeys(parsed.refs, "x y"), {}, "url") == '"x y" x%20y'


def test_the_file_name_gives_the_default_format() -> None:
    assert [format_for(n) for n in ("a.json", "b.YAML", "c.yml", "d.sh", "e.env", "nginx.conf")] == [
        "json", "yaml", "yaml", "shell", "dotenv", "raw"]  # fmt: skip


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
    assert set(ESCAPERS) == {"raw", "json", "yaml", "shell", "url", "dotenv"}
    assert all(isinstance(p, (str, Tag)) for p in parse_template("a {{ X }} b", "t").parts)
