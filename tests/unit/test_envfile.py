from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from envinject.errors import ConfigError
from envinject.plan import read_envfile
from envinject.rules.envfile import Literal, parse_envfile
from envinject.rules.formats import dotenv
from envinject.rules.refs import Locator, Ref
from envinject.sources.memory import MemorySource
from tests.resolve import resolve
from tests.unit.test_formats import writable

TEMPLATE = """\
# committed template: no secret in it
OPENAI_API_KEY=sm://APIKEYS#openai
export DB_URL="postgres://db:5432/app"
WHOLE=sm://prod/token
ARN=sm://arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf#k
LOOKS_LIKE=APIKEYS#openai
URL=https://sm.example/x?version-stage=AWSCURRENT
S3=arn:aws:s3:::bucket
QUOTED='single $quoted ${X}'
EMPTY=
"""


def test_template() -> None:
    entries = dict(parse_envfile(TEMPLATE, "app.env"))
    assert entries["app.env:2"] == Ref("OPENAI_API_KEY=sm://APIKEYS#openai", Locator("APIKEYS"), ("openai",),
                                       "OPENAI_API_KEY")  # fmt: skip
    assert entries["app.env:3"] == Literal("DB_URL", "postgres://db:5432/app", "app.env:3")
    assert entries["app.env:4"] == Ref("WHOLE=sm://prod/token", Locator("prod/token"), None, "WHOLE")
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf"
    assert entries["app.env:5"] == Ref(f"ARN=sm://{arn}#k", Locator(arn), ("k",), "ARN")
    # Values that merely look like references are literals.
    assert entries["app.env:6"].value == "APIKEYS#openai"  # type: ignore[union-attr]
    assert entries["app.env:7"].value == "https://sm.example/x?version-stage=AWSCURRENT"  # type: ignore[union-attr]
    assert entries["app.env:8"].value == "arn:aws:s3:::bucket"  # type: ignore[union-attr]
    # No ${} interpolation: read as python-dotenv reads it with interpolate=False.
    assert entries["app.env:9"].value == "single $quoted ${X}"  # type: ignore[union-attr]
    assert entries["app.env:10"].value == ""  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("A=1\nB='unterminated\n", ["f.env:2", "cannot parse"]),
        ("A=1\nNOVALUE\n", ["f.env:2", "a line of 7 characters with no NAME="]),
        ("a.b=1\n", ["f.env:1", "on a line of 5 characters is not a valid variable name"]),
        ("A=sm://bad name\n", ["f.env:1", "not a valid secret name"]),
    ],
)
def test_errors_name_the_file_and_line(text: str, words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        list(parse_envfile(text, "f.env"))
    for w in words:
        assert w in str(info.value)


def test_bad_line_content_is_not_quoted() -> None:
    with pytest.raises(ConfigError) as info:
        list(parse_envfile("A='canary-value-xyz\n", "f.env"))
    assert "canary-value-xyz" not in str(info.value)


def test_missing_file(tmp_path: object) -> None:
    with pytest.raises(ConfigError) as info:
        read_envfile("/nonexistent/app.env")
    assert "'/nonexistent/app.env'" in str(info.value)


SM_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
SSM_ARN = "arn:aws:ssm:us-east-1:123456789012:parameter/app/url"


def test_a_quoted_value_is_always_literal() -> None:
    text = f"""A="sm://APIKEYS#openai"\nB='ssm:///app/url'\nC= "{SM_ARN}"\nexport D='{SSM_ARN}'\n"""
    values = {e.name: e.value for _, e in parse_envfile(text, "f.env") if isinstance(e, Literal)}
    assert values == {"A": "sm://APIKEYS#openai", "B": "ssm:///app/url", "C": SM_ARN, "D": SSM_ARN}


@pytest.mark.parametrize(("arn", "scheme"), [(SM_ARN, "sm://"), (SM_ARN + ":password::", "sm://"), (SSM_ARN, "ssm://")])
def test_a_bare_arn_is_an_error_pointing_to_the_scheme(arn: str, scheme: str) -> None:
    # It was a reference once: reading it as text now would change an old file silently, and fetching it
    # made DB_SECRET_ARN=arn:... (an app's own setting) a secret's value.
    with pytest.raises(ConfigError) as info:
        list(parse_envfile(f"X=1\nDB_SECRET_ARN={arn}\n", "f.env"))
    message = str(info.value)
    assert "f.env:2" in message and "DB_SECRET_ARN" in message and "bare ARN" in message
    assert f"DB_SECRET_ARN={scheme}arn:..." in info.value.hint and 'DB_SECRET_ARN="arn:..."' in info.value.hint
    assert "123456789012" not in message + info.value.hint  # the line's content is never echoed
    with_scheme = dict(parse_envfile(f"DB_SECRET_ARN={scheme}{arn}\n", "f.env"))["f.env:1"]
    assert isinstance(with_scheme, Ref) and with_scheme.locator.secret_id in arn


# Values that start like a reference, or are one, mixed with what breaks quoting.
REFLIKE = ["sm://", "ssm://", "sm://APIKEYS#openai", "ssm:///app/", SM_ARN, SSM_ARN, "arn:aws:ssm:", "#", "'", '"',
           "\\", "\n", " ", "=", "${X}", "export "]  # fmt: skip
CHARS = st.characters(codec="utf-8", exclude_characters="\x00")  # what a file can hold and an env can take
REFLIKE_VALUES = st.lists(st.one_of(st.sampled_from(REFLIKE), st.text(CHARS, max_size=4)), max_size=5).map("".join)
NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)


@given(st.dictionaries(NAMES, REFLIKE_VALUES))
@example({"DB_SECRET_ARN": SM_ARN, "OTHER": "sm://other", "P": "ssm:///app/url", "E": ""})
def test_exported_dotenv_reads_back_exactly(env: dict[str, str]) -> None:
    """Any env `export` writes (dotenv), read back as an env file, gives the same env, fetching nothing."""
    env = writable(env)
    entries = list(parse_envfile(dotenv.render(env), "out.env"))
    assert all(isinstance(e, Literal) for _, e in entries)
    source = MemorySource()
    bindings = resolve([], source, env_files=[entries])
    assert {b.name: b.value for b in bindings} == env
    assert source.calls == []


def test_unreadable_file_hints_name_where_the_path_was_given(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.env"
    latin1.write_bytes("CITY=Zürich\n".encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        read_envfile(latin1, refs=False, missing_hint="check the path given to push")
    assert "not UTF-8" in str(info.value) and "iconv" in info.value.hint and "--env-file" not in str(info.value)
    with pytest.raises(ConfigError) as info:
        read_envfile(tmp_path / "missing.env", refs=False, missing_hint="check the path given to push")
    assert info.value.hint == "check the path given to push"
    with pytest.raises(ConfigError) as info:
        read_envfile(tmp_path / "missing.env")
    assert info.value.hint == "check the path given to --env-file"


def test_file_form_in_an_env_file_is_a_reference_and_quoted_it_is_text() -> None:
    from envinject.rules.envfile import Literal, parse_envfile
    from envinject.rules.refs import Ref

    entries = dict(parse_envfile('A=file:sm://tls#key\nB="file:sm://tls#key"\nC=file:plain\n', "f"))
    assert isinstance(entries["f:1"], Ref) and entries["f:1"].as_file
    assert isinstance(entries["f:2"], Literal) and entries["f:2"].value == "file:sm://tls#key"
    assert isinstance(entries["f:3"], Literal)


def test_a_huge_reference_is_cut_short_in_the_error() -> None:
    with pytest.raises(ConfigError) as info:
        list(parse_envfile("A=sm://bad name" + "x" * 1_000_000 + "\n", "f.env"))
    message = str(info.value)
    assert message.startswith("f.env:1: reference ")
    assert len(message) < 1000


@pytest.mark.parametrize("line", ['A="x\0y"', "A=x\0y", "A='\0'"])
def test_a_nul_in_a_literal_is_an_error_naming_the_line(line: str) -> None:
    for refs in (True, False):  # run and export, and push
        with pytest.raises(ConfigError) as info:
            list(parse_envfile(f"B=1\n{line}\n", "f.env", refs=refs))
        assert str(info.value) == (
            "f.env:2: the value of A contains a NUL byte, which no environment can hold; remove the NUL from it"
        )


def test_a_prefix_line_names_the_keys_of_a_whole_secret() -> None:
    entries = dict(parse_envfile("DB1_*=sm://prod/db1\nAPP_*=sm://prod/app/*\nPLAIN=x\n", "f.env"))
    assert entries["f.env:1"] == Ref("DB1_*=sm://prod/db1", Locator("prod/db1"), prefix="DB1_")
    assert entries["f.env:2"] == Ref("APP_*=sm://prod/app/*", Locator("prod/app/*"), prefix="APP_")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("DB1_*=literal\n", ["f.env:1", "'DB1_*' is not a valid variable name"]),  # a literal has no keys
        ("APP=sm://prod/app/*\n", ["f.env:1", "selects many secrets", "APP_*=prod/app/*"]),
    ],
)
def test_prefix_lines_need_a_reference(text: str, words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        list(parse_envfile(text, "f.env"))
    assert all(w in str(info.value) for w in words), str(info.value)


# A line that is no NAME=value is named by place and length, never by text: the body lines of a PEM key (base64:
# letters, digits, + and /, = as padding) and tokens pasted alone (with - . _ ~), with or without '='.
CANARY_PIECE = "Zq9Canary"
TOKEN_CHARS = st.text(st.sampled_from("ABCxyz0189+/-._~"), max_size=30)
NOT_A_NAME = st.builds(lambda a, b: a + b, TOKEN_CHARS, st.sampled_from("+/-.~")).filter(lambda k: k[:1] != "~")


@given(
    line=st.one_of(
        st.builds(lambda a, b: a + CANARY_PIECE + b, TOKEN_CHARS, TOKEN_CHARS),  # no '=' at all
        st.builds(lambda k, v: k + CANARY_PIECE + "-=" + v, NOT_A_NAME, TOKEN_CHARS),  # text before '=' is no name
        st.builds(lambda a: "0" + a + CANARY_PIECE + "==", TOKEN_CHARS),  # padded, starting with a digit
    ),
    refs=st.booleans(),
)
@example(line="MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + CANARY_PIECE, refs=True)
@example(line="ghp_16C7e42F292c6912E7710" + CANARY_PIECE, refs=False)
def test_a_line_that_is_no_assignment_is_never_echoed(line: str, refs: bool) -> None:
    with pytest.raises(ConfigError) as info:
        list(parse_envfile(f"KEY=-----BEGIN PRIVATE KEY-----\n{line}\n-----END PRIVATE KEY-----\n", "k.env", refs=refs))
    text = f"{info.value.message} {info.value.hint}"
    assert "k.env:2:" in text and f"a line of {len(line)} characters" in text, text
    assert CANARY_PIECE not in text, text
