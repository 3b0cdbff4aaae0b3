"""Every place a tag can stand in a file, fed to the file's real reader with hostile values: bash and dash,
python-dotenv, PyYAML, json, tomllib, configparser, npm's ini and config (node) and java.util.Properties.

For each format: a property over hostile values in every place the format has (the value reads back exactly,
in its place, and nothing runs; or it is refused, for the documented class only), a table of the places where
no value can be written (refused with the line), and a property over generated templates: whatever the scanner
accepts reads back right, so it never mistakes where a tag stands.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from dotenv import dotenv_values
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from envinject.errors import ConfigError, SecretFormatError
from envinject.rules.template import parse_template, render_template
from tests import readers
from tests.shells import SHELLS
from tests.unit.test_formats import dotenv_can_hold, source_in

pytestmark = pytest.mark.slow  # every format through its real reader: bash, dash, node, java

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_CHARS = st.characters(codec="utf-8", exclude_characters="\x00")
#: What breaks out of a place in some format, each with a side effect a test looks for (a file named ran).
_HOSTILE = [
    "'", '"', "\\", "\\\\", "$", "`", "$(touch ran)", "`touch ran`", "; touch ran", "${X}", "$X", "#", " # ", ":",
    ": ", "- ", ",", "[", "]", "{", "}", "%", "%(x)s", ";", "=", "\n", "\r", "\r\n", "\t", " ", "\x0b", "\x1b[31m",
    "\x7f", "\x85", "\u2028", "\u2029", "\ufeff", "é", "😀", "'''", '"""', "EOF", "\nEOF\n", "\nkey: evil\n",
    "\n[evil]\n", "\nscript-shell=evil\n", "true", "'\\''", "*", "&a", "!", "|", ">", "@", "?",
]  # fmt: skip
VALUES = st.lists(st.one_of(st.sampled_from(_HOSTILE), st.text(_CHARS, max_size=6)), max_size=8).map("".join)


def render(text: str, fmt: str | None, *values: str) -> str:
    """``text`` rendered for ``fmt``, the n-th tag (``{{ sm://s#kN }}``) given the n-th value."""
    template = parse_template(text, "t")
    return render_template(template, dict(zip(template.refs, values, strict=True)), {}, fmt)


def render_or_refuse(text: str, fmt: str, *values: str) -> str | None:
    """The rendered text, or None when a value cannot be written where its tag stands."""
    try:
        return render(text, fmt, *values)
    except SecretFormatError as e:
        assert e.message.startswith("t:") and "the value contains" in e.message
        # No value in the message: the same values around a canary, refused again, do not show it. (A value
        # itself may be text the message has anyway, as ": {{" is in its hint.)
        try:
            render(text, fmt, *(f"Qz7{v}Qz7" for v in values))
        except SecretFormatError as again:
            assert "Qz7" not in str(again)
        return None


def tags(n: int, fmt: str = "") -> list[str]:
    return [f"{{{{ sm://s#k{i}{' | ' + fmt if fmt else ''} }}}}" for i in range(n)]


# ---------------------------------------------------------------------------------------------------------
# shell: bash and dash

SHELL_PLACES = (
    'V0={t0}\nV1="pre {t1} post"\nV2=\'pre {t2} post\'\nprintf "%s\\0" "$V0" "$V1" "$V2" "{t3}" \'{t4}\' {t5} x{t6}y\n'
)


def run_shell(sh: str, script: str) -> tuple[list[bytes], bool]:
    """Run ``script`` in ``sh`` in a fresh folder: the NUL-separated words it printed, and whether it ran
    anything a value held (a file named ran)."""
    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run([sh, "-c", script], cwd=folder, capture_output=True, stdin=subprocess.DEVNULL,
                             env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"},
                             timeout=30).stdout  # fmt: skip
        return out.split(b"\0")[:-1], any(Path(folder).glob("ran*"))


@pytest.mark.parametrize("sh", SHELLS)
@settings(max_examples=150, deadline=None)
@given(st.lists(VALUES, min_size=7, max_size=7))
@example(["$(touch ran)", '"; touch ran; "', "'; touch ran; '", "`touch ran`", "a'b", "\\", "x\ny"])
def test_shell_places_read_back_in_bash_and_dash(sh: str, values: list[str]) -> None:
    # The bug report: `export PW="{{ ... }}"` in a .sh ran $(...) and backquotes from the value.
    text = SHELL_PLACES.format(**{f"t{i}": t for i, t in enumerate(tags(7))})
    script = render(text, "shell", *values)
    words, ran = run_shell(sh, script)
    expected = [values[0], f"pre {values[1]} post", f"pre {values[2]} post", values[3], values[4], values[5],
                f"x{values[6]}y"]  # fmt: skip
    assert words == [v.encode() for v in expected]
    assert not ran


SHELL_REFUSED = [
    ("# {t}\n", "t:1: a tag cannot stand in a comment"),
    ("echo x # {t}\n", "t:1: a tag cannot stand in a comment"),
    ("cat <<EOF\nline\n{t}\nEOF\n", "t:3: a tag cannot stand in a here-document"),
    ("cat <<-'EOF'\n\t{t}\n\tEOF\n", "t:2: a tag cannot stand in a here-document"),
    ("cat << {t}\n", "t:1: a tag cannot stand in a here-document's delimiter"),
    ("X=$(echo {t})\n", "t:1: a tag cannot stand inside a command substitution"),
    ('X="$(echo "{t}")"\n', "t:1: a tag cannot stand inside a command substitution"),
    ("X=`echo {t}`\n", "t:1: a tag cannot stand inside a backquoted command substitution"),
    ('X="`echo {t}`"\n', "t:1: a tag cannot stand inside a backquoted command substitution"),
    ("X=$(( {t} + 1 ))\n", "t:1: a tag cannot stand inside an arithmetic expansion"),
    ("(( x = {t} ))\n", "t:1: a tag cannot stand inside an arithmetic expansion"),
    ("X=$[ {t} ]\n", "t:1: a tag cannot stand inside an arithmetic expansion"),
    ("X=${{Y:-{t}}}\n", "t:1: a tag cannot stand inside a parameter expansion"),
    ('X="${{Y:-{t}}}"\n', "t:1: a tag cannot stand inside a parameter expansion"),
    ("X=$'{t}'\n", "t:1: a tag cannot stand inside a $'...' string"),
    ("X=\\{t}\n", "t:1: a tag cannot stand right after a backslash"),
    ('X="\\{t}"\n', "t:1: a tag cannot stand right after a backslash"),
    ("X=${t}\n", "t:1: a tag cannot stand right after a $"),
    ('X="${t}"\n', "t:1: a tag cannot stand right after a $"),
    ("X=$(case a in a) echo;; esac)\nY={t}\n", "t:2: a tag cannot stand after a case inside $(...)"),
    ('X=${{Y:-"a"}}\nY={t}\n', "t:2: a tag cannot stand after a quote inside ${...}"),
]


@pytest.mark.parametrize(("text", "message"), SHELL_REFUSED)
def test_shell_refuses_places_with_no_escaping_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        render(text.format(t=tags(1)[0]), "shell", "v")


SHELL_RESUMED = [
    "cat <<EOF >/dev/null\n$(echo) 'x\nEOF\n",  # a here-document's body, quotes and all, then its end
    "cat <<-EOF >/dev/null\n\tbody\n\tEOF\n",
    "cat <<'E O' >/dev/null\nbody\nE O\n",
    "X=$(echo ')' \"(\" $(echo a))\n",  # nested command substitutions and quoted parentheses
    "X=`echo '(' \"$HOME\"`\n",
    "X=$(( (1 + 2) * 3 ))\n",
    "X=${HOME:-/}\n",
    "# a comment with 'a quote\n",
    "X=a\\\nb\n",  # a line continuation
    "echo x#not-a-comment >/dev/null\n",
]


@pytest.mark.parametrize("sh", SHELLS)
@pytest.mark.parametrize("before", SHELL_RESUMED)
def test_shell_follows_what_it_knows_and_writes_after_it(sh: str, before: str) -> None:
    value = "'; touch ran; \"$(touch ran)\n"
    t = tags(2)
    script = render(before + f'V={t[0]}\nprintf "%s\\0" "$V" "{t[1]}"\n', "shell", value, value)
    words, ran = run_shell(sh, script)
    assert words == [value.encode(), value.encode()] and not ran


SHELL_FRAGMENTS = ["'", '"', "`", "$(", ")", "(", "$((", "${", "}", "#", "\n", " ", "\\", "$", ";", "<<E\n",
                   "E\n", "<<-'E'\n", "echo", "x", "=", "case", " in ", "esac", "$'", "|", "&&"]  # fmt: skip


@pytest.mark.parametrize("sh", SHELLS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(SHELL_FRAGMENTS), st.just("{t}")), max_size=24))
def test_shell_never_mistakes_a_place(sh: str, fragments: list[str]) -> None:
    # Any text the scanner accepts runs none of what a value holds, wherever the tags fell.
    n = fragments.count("{t}")
    text = "".join(fragments).replace("{t}", "\0").replace("{", "(").replace("}", ")")
    for tag in tags(n):
        text = text.replace("\0", tag, 1)
    value = "x'; touch ran1; '\"; touch ran2; \"$(touch ran3)`touch ran4`\ntouch ran5\nE\ntouch ran6\n)"
    try:
        script = render(text, "shell", *[value] * n)
    except ConfigError:
        return
    _, ran = run_shell(sh, script)
    assert not ran, script


# ---------------------------------------------------------------------------------------------------------
# dotenv: python-dotenv and `set -a; . ./.env` in bash and dash

DOTENV_PLACES = "V0={t0}\nV1=\"pre {t1} post\"\nV2='pre {t2} post'\nV3=pre{t3}post\nV4={t4} # comment\n"


def dotenv_place_holds(place: int, value: str) -> bool:
    """The documented classes, per place (README, rendered files)."""
    if place in (0, 4):
        return dotenv_can_hold(value)
    if place == 1:
        return not re.search(r"[$`\r]", value)
    if place == 2:
        return not re.search(r"'|\\\\|\\\Z|\r", value)
    return re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]*", value) is not None


@pytest.mark.parametrize("sh", SHELLS)
@settings(max_examples=150, deadline=None)
@given(st.lists(VALUES, min_size=5, max_size=5))
@example(["$(touch ran)", '"; touch ran; "', "$HOME", "a-b.c", "it's"])
def test_dotenv_places_read_back_in_python_dotenv_and_a_shell(sh: str, values: list[str]) -> None:
    values = [v if dotenv_place_holds(i, v) else "" for i, v in enumerate(values)]
    text = DOTENV_PLACES.format(**{f"t{i}": t for i, t in enumerate(tags(5))})
    rendered = render(text, "dotenv", *values)
    expected = {"V0": values[0], "V1": f"pre {values[1]} post", "V2": f"pre {values[2]} post",
                "V3": f"pre{values[3]}post", "V4": values[4]}  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        assert source_in(sh, Path(folder), rendered, list(expected)) == [v.encode() for v in expected.values()]
        assert not Path(folder, "ran").exists()
        assert dotenv_values(Path(folder, ".env"), interpolate=False) == expected


@given(st.integers(0, 4), VALUES)
def test_dotenv_refuses_exactly_the_documented_class(place: int, value: str) -> None:
    values = ["" if i != place else value for i in range(5)]
    text = DOTENV_PLACES.format(**{f"t{i}": t for i, t in enumerate(tags(5))})
    assert (render_or_refuse(text, "dotenv", *values) is not None) == dotenv_place_holds(place, value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# {t}\n", "t:1: a tag cannot stand in a comment"),
        ("A=1 # {t}\n", "t:1: a tag cannot stand in a comment"),
        ("{t}=1\n", "t:1: a tag cannot stand where a name goes"),
        ("A{t}=1\n", "t:1: a tag cannot stand in a name"),
        ("A= {t}\n", "t:1: a tag cannot stand after = and a blank"),
        ("A='x' {t}\n", "t:1: a tag cannot stand after a quoted value"),
        ('A="\\{t}"\n', "t:1: a tag cannot stand right after a backslash"),
        ('A="${t}"\n', "t:1: a tag cannot stand right after a $"),
        ("A=${t}\n", "t:1: a tag cannot stand right after a $"),
    ],
)
def test_dotenv_refuses_places_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        render(text.format(t=tags(1)[0]), "dotenv", "v")


# ---------------------------------------------------------------------------------------------------------
# YAML: PyYAML, every scalar as a string (BaseLoader) so that only places and text are compared

YAML_PLACES = (
    "a: {t0}\n"
    'b: "pre {t1} post"\n'
    "c: 'pre {t2} post'\n"
    "d: postgres://app:{t3}@db:5432/app\n"
    "e:\n  - {t4}\n  - [{t5}, x]\n"
    "f: {{k: {t6}, {t7}: v}}\n"
    "{t8}: key\n"
    "g: {t9} # a comment\n"
)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=yaml.BaseLoader)


def _plain_holds(value: str) -> bool:
    return not re.search("[\\s#:,\\[\\]{}\ufeff\x85\u2028\u2029]", value) and not re.search(
        "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", value
    )


@settings(max_examples=300)
@given(st.lists(VALUES, min_size=10, max_size=10))
@example(["a #b", "x\ny", "it's", "p #w:d", "- x", "a, b]", "}", "evil", "\nkey: evil\n", "\ufeff"])
def test_yaml_places_read_back_in_pyyaml(values: list[str]) -> None:
    # The bug report: a tag inside a plain scalar was cut at " #". Now it is written there only when nothing in
    # it can end or change the scalar, else refused; every other place reads back exactly.
    sq_holds = not re.search(
        "[^\x09\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\ufeff\u2028\u2029]", values[2]
    )
    values[2] = values[2] if sq_holds else ""
    values[3] = values[3] if _plain_holds(values[3]) else ""
    assume(values[8] not in ("a", "b", "c", "d", "e", "f", "g") and values[7] != "k")
    text = YAML_PLACES.format(**{f"t{i}": t for i, t in enumerate(tags(10))})
    doc = load_yaml(render(text, "yaml", *values))
    assert doc == {
        "a": values[0], "b": f"pre {values[1]} post", "c": f"pre {values[2]} post",
        "d": f"postgres://app:{values[3]}@db:5432/app", "e": [values[4], [values[5], "x"]],
        "f": {"k": values[6], values[7]: "v"}, values[8]: "key", "g": values[9],
    }  # fmt: skip


@given(VALUES)
@example("p #w")
@example("p: w")
def test_yaml_refuses_in_a_plain_scalar_exactly_what_would_change_it(value: str) -> None:
    text = f"url: postgres://app:{tags(1)[0]}@db\nnext: 1\n"
    rendered = render_or_refuse(text, "yaml", value)
    assert (rendered is not None) == _plain_holds(value)
    if rendered is not None:
        assert load_yaml(rendered) == {"url": f"postgres://app:{value}@db", "next": "1"}


def test_yaml_url_encoded_in_a_plain_scalar_reads_back() -> None:
    # The README's example: a password in a DSN, percent-encoded, inside a plain scalar.
    value = 'p@ss:w"o%rd #x\n'
    text = "url: postgres://app:{t}@db:5432/app\n".format(t=tags(1, "url")[0])
    assert load_yaml(render(text, "yaml", value)) == {"url": "postgres://app:p%40ss%3Aw%22o%25rd%20%23x%0A@db:5432/app"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# {t}\n", "t:1: a tag cannot stand in a comment"),
        ("a: 1 # {t}\n", "t:1: a tag cannot stand in a comment"),
        ("a: |\n  line\n  {t}\nb: 1\n", "t:3: a tag cannot stand in a block scalar"),
        ("a: >-\n  x {t}\n", "t:2: a tag cannot stand in a block scalar"),
        ("- |\n  {t}\n", "t:2: a tag cannot stand in a block scalar"),
        ("|\n{t}\n", "t:2: a tag cannot stand in a block scalar"),  # the document's own, at no indentation
        ("a: &{t} x\n", "t:1: a tag cannot stand in an anchor or tag name"),
        ("a: *{t}\n", "t:1: a tag cannot stand in an alias"),
        ('a: "x" {t}\n', "t:1: a tag cannot stand after a quoted scalar"),
        ('a: "x\\{t}"\n', "t:1: a tag cannot stand right after a backslash"),
        ("%YAML {t}\n---\na: 1\n", "t:1: a tag cannot stand in a directive"),
    ],
)
def test_yaml_refuses_places_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        render(text.format(t=tags(1)[0]), "yaml", "v")


@pytest.mark.parametrize(
    "text",
    [
        "a: plain\n  {t}\n",  # a deeper line goes on with the plain scalar
        "- plain\n  {t}\n",
        "a: x:{t}\n",  # `:` with no blank after it is text
        "a: -{t}\n",
        "a: ---{t}\n",
    ],
)
def test_yaml_continuations_are_plain_scalars(text: str) -> None:
    # Written as a part of the plain scalar it goes on: a value that would end it is refused, a safe one reads back.
    assert render_or_refuse(text.format(t=tags(1)[0]), "yaml", "x #y") is None
    assert load_yaml(render(text.format(t=tags(1)[0]), "yaml", "tok")) == load_yaml(text.format(t="tok"))


YAML_FRAGMENTS = ["a", ":", ": ", "- ", "\n", "  ", "#", " #", '"', "'", "[", "]", "{", "}", ", ", "|\n", ">\n",
                  "&x ", "*x", "!!str ", "---\n", "\\", "x", "? "]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(YAML_FRAGMENTS), st.just("{t}")), max_size=20), st.booleans())
def test_yaml_never_mistakes_a_place(fragments: list[str], breaks: bool) -> None:
    # Whatever text the scanner accepts: with harmless tokens, then with a hostile value in each place that takes
    # it, PyYAML reads the same document, the hostile values where the tokens were.
    n = fragments.count("{t}")
    assume(n)
    text = "".join(fragments)
    for tag in tags(n):
        text = text.replace("{t}", tag, 1)
    tokens = [f"tok{i}z" for i in range(n)]
    try:
        safe = load_yaml(render(text, "yaml", *tokens))
    except (ConfigError, SecretFormatError, yaml.YAMLError):
        return
    values = list(tokens)
    for i in range(n):  # a hostile value wherever it can be written
        hostile = f"h{i}z #x: y, ]}}'\"\\" + ("\n- z\n" if breaks else " - z")
        if render_or_refuse(text, "yaml", *values[:i], hostile, *values[i + 1 :]) is not None:
            values[i] = hostile
    as_text = json.dumps(safe)
    for token, value in zip(tokens, values, strict=True):
        as_text = as_text.replace(token, json.dumps(value)[1:-1])
    assert load_yaml(render(text, "yaml", *values)) == json.loads(as_text), text


# ---------------------------------------------------------------------------------------------------------
# JSON


@given(st.lists(VALUES, min_size=4, max_size=4))
def test_json_places_read_back(values: list[str]) -> None:
    assume(values[3] not in ("a", "b", "c"))
    t = tags(4)
    text = f'{{"a": {t[0]}, "b": "pre {t[1]} post", "c": [{t[2]}], {t[3]}: 1}}'
    assert json.loads(render(text, "json", *values)) == {
        "a": values[0], "b": f"pre {values[1]} post", "c": [values[2]], values[3]: 1
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{{"a": 1 // {t}\n}}', "t:1: a tag cannot stand in a comment"),
        ('{{"a": /* {t} */ 1}}', "t:1: a tag cannot stand in a comment"),
        ('{{"a": "\\{t}"}}', "t:1: a tag cannot stand right after a backslash"),
    ],
)
def test_json_refuses_places_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        render(text.format(t=tags(1)[0]), "json", "v")


def test_json_follows_strings_and_comments() -> None:
    t = tags(2)
    text = f'{{"x": "a // not a comment \\" {t[0]}", /* "a comment */ "y": {t[1]}}}'
    assert json.loads(render(text, "json", 'q"\n', "r").replace('/* "a comment */', "")) == {
        "x": 'a // not a comment " q"\n',
        "y": "r",
    }


# ---------------------------------------------------------------------------------------------------------
# TOML: tomllib


TOML_PLACES = (
    "a = {t0}\n"
    'b = "pre {t1} post"\n'
    "c = 'pre {t2} post'\n"
    'd = """pre {t3} post"""\n'
    "e = '''pre {t4} post'''\n"
    "f = [{t5}]\n"
    "{t6} = 1\n"
    "[table.{t7}]\n"
    "x = 1\n"
)


@settings(max_examples=300)
@given(st.lists(VALUES, min_size=8, max_size=8))
@example(["x\n[tool.evil]\ny = 1", "\"'''", "'", '"""', "'''", "\\", "\x7f", "\x1b"])
def test_toml_places_read_back_in_tomllib(values: list[str]) -> None:
    # The bug report: a value in a TOML file added a [tool.evil] table.
    values[2] = "" if re.search(r"['\x00-\x08\x0a-\x1f\x7f]", values[2]) else values[2]
    values[4] = "" if re.search(r"['\x00-\x08\x0b-\x1f\x7f]", values[4]) else values[4]
    assume(values[6] not in ("a", "b", "c", "d", "e", "f", "table"))
    text = TOML_PLACES.format(**{f"t{i}": t for i, t in enumerate(tags(8))})
    assert tomllib.loads(render(text, "toml", *values)) == {
        "a": values[0], "b": f"pre {values[1]} post", "c": f"pre {values[2]} post", "d": f"pre {values[3]} post",
        "e": f"pre {values[4]} post", "f": [values[5]], values[6]: 1, "table": {values[7]: {"x": 1}},
    }  # fmt: skip


@given(VALUES)
def test_toml_literal_strings_refuse_exactly_what_they_cannot_hold(value: str) -> None:
    holds = not re.search(r"['\x00-\x08\x0a-\x1f\x7f]", value)
    rendered = render_or_refuse(f"c = 'pre {tags(1)[0]} post'\n", "toml", value)
    assert (rendered is not None) == holds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# {t}\n", "t:1: a tag cannot stand in a comment"),
        ("a = 1 # {t}\n", "t:1: a tag cannot stand in a comment"),
        ('a = "\\{t}"\n', "t:1: a tag cannot stand right after a backslash"),
    ],
)
def test_toml_refuses_places_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        render(text.format(t=tags(1)[0]), "toml", "v")


def test_toml_a_line_feed_right_after_an_opening_literal_is_refused() -> None:
    assert render_or_refuse(f"a = '''{tags(1)[0]}'''\n", "toml", "\nx") is None
    assert tomllib.loads(render(f"a = '''{tags(1)[0]}'''\n", "toml", "x\ny")) == {"a": "x\ny"}


# ---------------------------------------------------------------------------------------------------------
# INI: configparser (with and without interpolation) and npm's ini


@pytest.fixture(scope="module")
def npm() -> Iterator[readers.Npm]:
    reader = readers.npm()
    if reader is None:
        pytest.skip("node and npm are not installed (CI installs them): npm's ini and config are not checked")
    yield reader
    reader.close()


def ini_holds(value: str, starts: bool, ends: bool) -> bool:
    """The documented class: no line break, ; # \\ %, and no blank or quote at an end of the value."""
    if re.search("[\r\n\u2028\u2029;#\\\\%]", value):
        return False
    edge = [c for c, at in ((value[:1], starts), (value[-1:], ends)) if at and c]
    return not any(c.isspace() or c == "\ufeff" or c in "\"'" for c in edge)


def configparser_values(text: str) -> list[dict[str, str]]:
    read = []
    for parser in (configparser.ConfigParser(), configparser.RawConfigParser()):
        parser.read_string(text)
        read.append(dict(parser["s"]))
    return read


@settings(max_examples=300, deadline=None)
@given(st.lists(VALUES, min_size=3, max_size=3))
@example(["a\n[evil]\nb=1", " padded ", "50%"])
def test_ini_places_read_back_in_configparser_and_npm(npm: readers.Npm, values: list[str]) -> None:
    holds = [ini_holds(values[0], True, True), ini_holds(values[1], False, False), ini_holds(values[2], True, False)]
    values = [v if h else "" for v, h in zip(values, holds, strict=True)]
    t = tags(3)
    text = f"[s]\na = {t[0]}\nb = pre {t[1]} post\nc = {t[2]}-suffix\n"
    rendered = render(text, "ini", *values)
    expected = {"a": values[0], "b": f"pre {values[1]} post", "c": f"{values[2]}-suffix"}
    assert configparser_values(rendered) == [expected, expected]
    got = npm.read(rendered)["ini"]["s"]
    assert got == {k: {"true": True, "false": False, "null": None}.get(v, v) for k, v in expected.items()}


@given(VALUES)
def test_ini_refuses_exactly_the_documented_class(value: str) -> None:
    rendered = render_or_refuse(f"[s]\na = {tags(1)[0]}\n", "ini", value)
    assert (rendered is not None) == ini_holds(value, True, True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("; {t}\n", "t:1: a tag cannot stand in a comment"),
        ("[s]\n# {t}\n", "t:2: a tag cannot stand in a comment"),
        ("[{t}]\n", "t:1: a tag cannot stand in a section header"),
        ("[s]\n{t} = 1\n", "t:2: a tag cannot stand before the = of a key = value line"),
    ],
)
def test_ini_refuses_places_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        render(text.format(t=tags(1)[0]), "ini", "v")


# ---------------------------------------------------------------------------------------------------------
# .npmrc: npm's ini, then npm's config field parsing (trimming, true/false/null/undefined, ${NAME})


def npmrc_holds(value: str) -> bool:
    edges = value[:1] + value[-1:]
    return not any(c.isspace() or c == "\ufeff" for c in edges) and value not in ("true", "false", "null", "undefined")


NPM_VALUES = st.lists(st.one_of(st.sampled_from([*_HOSTILE, "${X}", "\\${X}", "\\\\${X}", "${X?}", "${NPM_TOKEN}",
                                                 "$${X}", "${", "${}"]), st.text(_CHARS, max_size=6)),
                      max_size=8).map("".join)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(NPM_VALUES, min_size=3, max_size=3))
@example(["npm_token\nscript-shell=/tmp/evil.sh", "${NPM_TOKEN}", "\\${X}"])
def test_npmrc_values_read_back_in_npm(npm: readers.Npm, values: list[str]) -> None:
    # The bug report: a line feed in an npm token added script-shell=..., and `npm run` executed it.
    values = [v if npmrc_holds(v) else "v" for v in values]
    t = tags(3)
    text = f"//registry.example/:_authToken={t[0]}\nemail = {t[1]}\n; comment\nthird=  {t[2]}  \n"
    got = npm.read(render(text, "npmrc", *values))
    assert got["npm"] == {"//registry.example/:_authToken": values[0], "email": values[1], "third": values[2]}
    assert "script-shell" not in got["ini"]


@settings(max_examples=300)
@given(st.lists(NPM_VALUES, min_size=2, max_size=2))
def test_npmrc_lines_hold_one_json_string_each(values: list[str]) -> None:
    # Without node: each value stays on its own line as one JSON string (what ini.parse gives to JSON.parse), no
    # line or key added, read here by configparser and json; npm's own reading is test_npmrc_values_read_back_in_npm.
    values = [v if npmrc_holds(v) else "v" for v in values]
    t = tags(2)
    rendered = render(f"//registry.example/:_authToken={t[0]}\nemail={t[1]}\n", "npmrc", *values)
    parser = configparser.RawConfigParser(delimiters=("=",), comment_prefixes=(), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string("[npmrc]\n" + rendered)
    read = {key: json.loads(text) for key, text in parser["npmrc"].items()}
    assert list(read) == ["//registry.example/:_authToken", "email"]
    unescaped = [
        re.sub(r"\\(\\*)(?=\$\{[^${}?]+\??\})", lambda m: m.group(1)[: len(m.group(1)) // 2], v) for v in read.values()
    ]
    assert unescaped == values


@given(NPM_VALUES)
def test_npmrc_refuses_only_blanks_at_an_end(value: str) -> None:
    rendered = render_or_refuse(f"a={tags(1)[0]}\n", "npmrc", value)
    edges = value[:1] + value[-1:]
    assert (rendered is None) == any(c.isspace() or c == "\ufeff" for c in edges)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# {t}\n", "t:1: a tag cannot stand in a comment"),
        ("; {t}\n", "t:1: a tag cannot stand in a comment"),
        ("[{t}]\n", "t:1: a tag cannot stand in a section header"),
        ("//{t}/:_authToken=x\n", "t:1: a tag cannot stand before the = of a key = value line"),
        ("_auth=x{t}\n", "t:1: a tag cannot stand in a part of an .npmrc value"),
        ("_auth={t} x\n", "t:1: a tag cannot stand in a part of an .npmrc value"),
    ],
)
def test_npmrc_refuses_places_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        render(text.format(t=tags(1)[0]), "npmrc", "v")


# ---------------------------------------------------------------------------------------------------------
# Java properties: java.util.Properties.load, from a Reader and from ISO 8859-1 bytes


@pytest.fixture(scope="module")
def java() -> Iterator[readers.Java]:
    reader = readers.java()
    if reader is None:
        pytest.skip("no JDK is installed (CI installs one): java.util.Properties is not checked")
    yield reader
    reader.close()


@settings(max_examples=300, deadline=None)
@given(st.lists(VALUES, min_size=4, max_size=4))
@example(["x\nevil=1", " lead", "a\\", "é😀\u2028"])
def test_properties_places_read_back_in_java(java: readers.Java, values: list[str]) -> None:
    t = tags(4)
    text = f"a={t[0]}\nb = pre {t[1]} post\n{t[2]}=key\nd=continued \\\n    {t[3]}\n"
    assume(values[2] not in ("a", "b", "d"))
    got = java.read(render(text, "properties", *values))
    expected = {"a": values[0], "b": f"pre {values[1]} post", values[2]: "key", "d": f"continued {values[3]}"}
    assert got == {k: (v, v) for k, v in expected.items()}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# {t}\n", "t:1: a tag cannot stand in a comment"),
        ("a=1\n  ! {t}\n", "t:2: a tag cannot stand in a comment"),
        ("a=\\{t}\n", "t:1: a tag cannot stand right after a backslash"),
    ],
)
def test_properties_refuses_places_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        render(text.format(t=tags(1)[0]), "properties", "v")


def test_properties_a_continued_comment_line_is_still_text() -> None:
    # A line continued by a backslash is not a comment, whatever it starts with.
    rendered = render(f"a=x\\\n# {tags(1)[0]}\n", "properties", "v w")
    assert rendered == "a=x\\\n# v\\ w\n"
