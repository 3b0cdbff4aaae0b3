"""Other tools' own test cases, used as values: what users arriving from python-dotenv or chamber store.

Each value goes through every export format and back through its real consumer, and through an env file read
back by envinject. The cases are restated from the tools' test suites (read, not copied):

* python-dotenv ``tests/test_parser.py``: the values its parser yields for each line it is tested on
  (``a=b #c`` gives ``b``, ``a='b\\'c'`` gives ``b'c``, ...).
* chamber ``cmd/export_test.go`` (``TestExportDotenv``) and ``cmd/env_test.go`` (``Test_doubleQuoteEscape``,
  ``Test_sanitizeKey``): the values whose quoting chamber tests, and its key names.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from dotenv import dotenv_values

from envinject.rules.envfile import Literal, parse_envfile
from envinject.rules.formats import docker, dotenv, github, jsonfmt, shell
from envinject.rules.naming import env_name, is_valid_name
from envinject.sources import Payload
from tests.unit.test_formats import dotenv_can_hold, parse_docker_env_file, parse_github_env, source_in
from tests.unit.test_inject import env

PYTHON_DOTENV_PARSER_VALUES = [
    "b",  # a=b, 'a'=b, export a=b, a = b
    "b#c",  # a=b#c: no space, so not a comment
    "b c",  # a=b c, a=b c  (trailing space stripped when unquoted)
    "b\tc",
    "b  c",
    "b\xa0 c",  # a no-break space inside an unquoted value
    "b c ",  # a='b c ', a="b c ": quotes keep the trailing space
    "1",  # export export_a=1
    "8000",  # export port=8000
    "b\nc",  # a="b\nc" and a='b\nc' over two lines, and a="b\\nc"
    "b\\nc",  # a='b\\nc': single quotes keep the backslash
    'b"c',  # a="b\"c"
    "b'c",  # a='b\'c'
    "à",  # a=à
    "",  # a=, a="", a=''
    "S3cr3t_P4ssw#rD",  # a "#" inside a quoted password
]

CHAMBER_QUOTING_VALUES = [
    "bar",  # TestExportDotenv: simple string
    "$qux",  # literal dollar signs
    '"qux"',  # double quotes
    "ordinary string",  # Test_doubleQuoteEscape
    "string\\with\\backslashes",
    "string\nwith\nnewlines",
    "string\rwith\rcarriage returns",
    'string"with"quotation marks',
    "string!with!excl",
    "string$with$dollar signs",
]

SHELLS = [sh for sh in (shutil.which("bash"), shutil.which("dash")) if sh]


def round_trips(value: str, tmp_path: Path) -> None:
    """``value`` in every format, read back by that format's consumer, and the dotenv text by envinject and by a
    shell sourcing it; or refused by dotenv, naming it, when no .env text can give it to both."""
    env = {"V": value, "NEXT": "after"}  # NEXT: python-dotenv < 1.2.3 lost the variable after a bad one
    if dotenv_can_hold(value):
        text = dotenv.render(env)
        assert dotenv_values(stream=io.StringIO(text), interpolate=False) == env
        assert {e.name: e.value for _, e in parse_envfile(text, "out.env") if isinstance(e, Literal)} == env
        for sh in SHELLS:
            assert source_in(sh, tmp_path, text, list(env)) == [value.encode(), b"after"], sh
    else:
        with pytest.raises(docker.UnrepresentableError, match=r"^V contains "):
            dotenv.render(env)
    assert json.loads(jsonfmt.render(env)) == env
    assert parse_github_env(github.render(env)) == env
    if "\n" in value or "\r" in value:
        with pytest.raises(docker.UnrepresentableError, match=r"^V contains a line break"):
            docker.render(env)
    else:
        assert parse_docker_env_file(docker.render(env)) == env
    for sh in SHELLS:
        script = shell.render(env) + 'printf "%s\\0" "$V" "$NEXT"'
        out = subprocess.run([sh, "-c", script], capture_output=True, check=True).stdout
        assert out.split(b"\0")[:-1] == [value.encode(), b"after"], sh


@pytest.mark.parametrize("value", PYTHON_DOTENV_PARSER_VALUES)
def test_python_dotenv_parser_case_values_round_trip(value: str, tmp_path: Path) -> None:
    round_trips(value, tmp_path)


@pytest.mark.parametrize("value", CHAMBER_QUOTING_VALUES)
def test_chamber_quoting_case_values_round_trip(value: str, tmp_path: Path) -> None:
    round_trips(value, tmp_path)


def test_chamber_dollar_escape_is_not_python_dotenv() -> None:
    # chamber's dotenv output writes $ as \$ (BAZ="\$qux"); python-dotenv has no such escape and reads the
    # backslash too. envinject writes $ as it is, in single quotes so a shell keeps it too, and warns for ${...}
    # (see the README).
    assert dotenv_values(stream=io.StringIO('BAZ="\\$qux"\n'), interpolate=False) == {"BAZ": "\\$qux"}
    assert dotenv.render({"BAZ": "$qux"}) == "BAZ='$qux'\n"
    assert dotenv.interpolation_hazards({"BAZ": "$qux", "REF": "${qux}"}) == ["REF"]


@pytest.mark.parametrize(
    ("key", "chamber", "envinject"),
    [
        ("invalid strings", "INVALID_STRINGS", "INVALID_STRINGS"),
        ("extremely  invalid  strings", "EXTREMELY__INVALID__STRINGS", "EXTREMELY__INVALID__STRINGS"),
        ("validish-string", "VALIDISH_STRING", "VALIDISH_STRING"),
        ("valid.string", "VALID_STRING", "VALID_STRING"),
        ("_1validstring", "_1VALIDSTRING", "_1VALIDSTRING"),
        # chamber trims surrounding whitespace first; envinject maps every character, so no two keys meet.
        ("\nunbelievably\tinvalid\tstrings\n", "UNBELIEVABLY_INVALID_STRINGS", "_UNBELIEVABLY_INVALID_STRINGS_"),
        # Both refuse a name that starts with a digit (envinject suggests --prefix).
        ("1invalidstring", None, "1INVALIDSTRING"),
    ],
)
def test_chamber_key_names(key: str, chamber: str | None, envinject: str) -> None:
    assert env_name((key,)) == envinject
    if chamber is None:
        assert not is_valid_name(envinject)
    else:  # the same name, except where chamber trims the key
        assert (envinject == chamber) == (key == key.strip())


def test_chamber_secrets_manager_layout() -> None:
    # chamber's Secrets Manager backend keeps a service as one flat object, with its bookkeeping serialised
    # into a string under _chamber_metadata (store/secretsmanagerstore.go).
    metadata = json.dumps({"db_password": {"created": "2024-01-01T00:00:00Z", "version": 2}})
    document = json.dumps({"db_password": "pw", "api_key": "k", "_chamber_metadata": metadata})
    secrets = {"myservice": Payload(text=document)}
    assert env(["myservice"], secrets) == {"DB_PASSWORD": "pw", "API_KEY": "k", "_CHAMBER_METADATA": metadata}
    assert env(["DB_PASSWORD=myservice#db_password"], secrets) == {"DB_PASSWORD": "pw"}
