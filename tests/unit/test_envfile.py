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
