import pytest

from envinject.envfile import Literal, parse_envfile, read_envfile
from envinject.errors import ConfigError
from envinject.refs import Locator, Ref

TEMPLATE = """\
# committed template: no secret in it
OPENAI_API_KEY=sm://APIKEYS#openai
export DB_URL="postgres://db:5432/app"
WHOLE=sm://prod/token
ARN=arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf#k
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
    assert entries["app.env:5"] == Ref(f"ARN={arn}#k", Locator(arn), ("k",), "ARN")
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
        ("A=1\nNOVALUE\n", ["f.env:2", "NOVALUE has no value", "NOVALUE="]),
        ("a.b=1\n", ["f.env:1", "'a.b' is not a valid variable name"]),
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
