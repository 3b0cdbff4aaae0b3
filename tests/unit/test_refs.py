import pytest

from envinject.errors import RefError
from envinject.rules.refs import Locator, Ref, looks_like_ref, parse_keypath, parse_ref, split_assignment

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("APIKEYS", Ref("APIKEYS", Locator("APIKEYS"))),
        ("sm://APIKEYS", Ref("sm://APIKEYS", Locator("APIKEYS"))),
        ("prod/app_1+x=y.z@corp-db", Ref("prod/app_1+x=y.z@corp-db", Locator("prod/app_1+x=y.z@corp-db"))),
        ("TOKEN=APIKEYS", Ref("TOKEN=APIKEYS", Locator("APIKEYS"), var="TOKEN")),
        ("TOKEN=a=b", Ref("TOKEN=a=b", Locator("a=b"), var="TOKEN")),
        # A name that starts like an assignment needs the scheme.
        ("sm://A=B", Ref("sm://A=B", Locator("A=B"))),
        ("team/a=b", Ref("team/a=b", Locator("team/a=b"))),
        ("1X=y", Ref("1X=y", Locator("1X=y"))),
        ("APIKEYS#openai", Ref("APIKEYS#openai", Locator("APIKEYS"), key=("openai",))),
        ("DB=sm://db#conn.host", Ref("DB=sm://db#conn.host", Locator("db"), key=("conn", "host"), var="DB")),
        ("db#a\\.b.c", Ref("db#a\\.b.c", Locator("db"), key=("a.b", "c"))),
        ("db?version-stage=AWSPREVIOUS", Ref("db?version-stage=AWSPREVIOUS", Locator("db", "AWSPREVIOUS"))),
        ("db?version-id=abc-123", Ref("db?version-id=abc-123", Locator("db", version_id="abc-123"))),
        (
            "db?version-stage=AWSPREVIOUS#pw",
            Ref("db?version-stage=AWSPREVIOUS#pw", Locator("db", "AWSPREVIOUS"), key=("pw",)),
        ),
        (
            "db#pw?version-stage=AWSCURRENT",
            Ref("db#pw?version-stage=AWSCURRENT", Locator("db", "AWSCURRENT"), key=("pw",)),
        ),
        (ARN, Ref(ARN, Locator(ARN))),
        (f"X={ARN}#user", Ref(f"X={ARN}#user", Locator(ARN), key=("user",), var="X")),
        # ECS task-definition form: ARN:JSON_KEY:VERSION_STAGE:VERSION_ID, empty fields unset.
        (f"{ARN}:user.name::", Ref(f"{ARN}:user.name::", Locator(ARN), key=("user.name",))),
        (f"{ARN}::AWSPREVIOUS:", Ref(f"{ARN}::AWSPREVIOUS:", Locator(ARN, "AWSPREVIOUS"))),
        (f"{ARN}:pw:AWSCURRENT:v1", Ref(f"{ARN}:pw:AWSCURRENT:v1", Locator(ARN, "AWSCURRENT", "v1"), key=("pw",))),
        (f"{ARN}:pw", Ref(f"{ARN}:pw", Locator(ARN), key=("pw",))),
    ],
)
def test_grammar(text: str, expected: Ref) -> None:
    assert parse_ref(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "sm://",
        "X=",
        "bad name",
        "a,b",
        "db#",
        "db#a..b",
        "db#a\\x",
        "db?stage=x",
        "db?version-stage=",
        "arn:aws:s3:::bucket",
        f"{ARN}:a:b:c:d",
        f"{ARN}:pw:#x",
        "x" * 513,
    ],
)
def test_malformed_references_are_errors_with_a_hint(text: str) -> None:
    with pytest.raises(RefError) as info:
        parse_ref(text)
    assert info.value.hint
    assert info.value.exit_code == 125


def test_locator_region_comes_from_an_arn() -> None:
    assert Locator(ARN).region == "eu-west-1"
    assert Locator("APIKEYS").region is None


def test_locator_str_shows_the_version() -> None:
    assert str(Locator("db", "AWSPREVIOUS")) == "db?version-stage=AWSPREVIOUS"


def test_split_assignment() -> None:
    assert split_assignment("A=b") == ("A", "b")
    assert split_assignment("sm://A=b") == (None, "sm://A=b")
    assert split_assignment("a/b=c") == (None, "a/b=c")


def test_keypath_escapes() -> None:
    assert parse_keypath("a\\\\.b", "r") == ("a\\", "b")


def test_looks_like_ref() -> None:
    assert looks_like_ref("sm://APIKEYS#openai")
    assert looks_like_ref(ARN)
    assert not looks_like_ref("APIKEYS")
    assert not looks_like_ref("arn:aws:s3:::bucket")


SSM_ARN = "arn:aws:ssm:eu-west-1:123456789012:parameter/myapp/db"


@pytest.mark.parametrize(
    ("text", "locator", "key", "var"),
    [
        ("ssm:///myapp/prod/db", Locator("/myapp/prod/db", backend="ssm"), None, None),
        ("ssm://plain", Locator("plain", backend="ssm"), None, None),
        ("ssm:///myapp/prod/", Locator("/myapp/prod/", backend="ssm"), None, None),
        ("ssm:///", Locator("/", backend="ssm"), None, None),
        ("DB=ssm:///myapp/db", Locator("/myapp/db", backend="ssm"), None, "DB"),
        ("ssm:///myapp/db:3", Locator("/myapp/db", version_id="3", backend="ssm"), None, None),
        ("ssm:///myapp/db:blue", Locator("/myapp/db", "blue", backend="ssm"), None, None),
        ("ssm:///myapp/db?version=12", Locator("/myapp/db", version_id="12", backend="ssm"), None, None),
        ("ssm:///myapp/db?label=blue", Locator("/myapp/db", "blue", backend="ssm"), None, None),
        ("PW=ssm:///myapp/db:blue#pw", Locator("/myapp/db", "blue", backend="ssm"), ("pw",), "PW"),
        (f"ssm://{SSM_ARN}", Locator(SSM_ARN, backend="ssm"), None, None),
        (f"X={SSM_ARN}:2", Locator(SSM_ARN, version_id="2", backend="ssm"), None, "X"),  # ECS valueFrom
    ],
)
def test_parameter_store_references(text: str, locator: Locator, key: tuple[str, ...] | None, var: str | None) -> None:
    assert parse_ref(text) == Ref(text, locator, key, var)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("ssm://", "names no parameter"),
        ("ssm://app/", "a parameter path starts with '/'"),
        ("X=ssm:///app/", "is a path"),
        ("ssm:///app/#key", "is a path"),
        ("ssm:///app/:3", "is a path"),
        ("ssm:///a:1:2", "version selector"),
        ("ssm:///a:1?label=x", "version selector"),
        ("ssm:///a?version=x", "unknown selector"),
        ("ssm:///a?stage=x", "unknown selector"),
        ("ssm:///a b", "not a valid parameter name"),
        ("ssm:///a//b", "not a valid parameter name"),
        ("ssm://arn:aws:ssm:eu-west-1:1:document/x", "not a Parameter Store parameter ARN"),
    ],
)
def test_bad_parameter_store_references(text: str, words: str) -> None:
    with pytest.raises(RefError) as info:
        parse_ref(text)
    assert words in str(info.value)


def test_parameter_locators_describe_and_print_themselves() -> None:
    path, pinned = parse_ref("ssm:///app/prod/").locator, parse_ref("ssm:///app/db?version=3").locator
    assert (path.is_path, pinned.is_path, Locator("a/").is_path) == (True, False, False)
    assert path.describe() == "parameter path '/app/prod/'"
    assert pinned.describe() == "parameter '/app/db:3'"
    assert Locator("APIKEYS").describe() == "secret 'APIKEYS'"
    assert str(pinned) == "ssm:///app/db:3"
    assert parse_ref(str(pinned)).locator == pinned
    assert parse_ref(f"ssm://{SSM_ARN}").locator.region == "eu-west-1"
    assert looks_like_ref("ssm:///app/db") and looks_like_ref(SSM_ARN) and not looks_like_ref("ssm:/x")


def test_a_huge_reference_is_quoted_cut_short_in_its_error() -> None:
    text = "bad name " + "x" * 1_000_000
    with pytest.raises(RefError) as info:
        parse_ref(text)
    message = str(info.value)
    assert len(message) < 1000
    assert "(1000009 characters)" in message


def test_control_characters_in_a_reference_are_escaped_in_its_error() -> None:
    with pytest.raises(RefError) as info:
        parse_ref("app\nenvinject: everything is fine\x1b]0;x\x07")
    assert str(info.value).isprintable()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Per-reference prefix: PREFIX*= names each key PREFIX + key, as written.
        ("DB1_*=prod/db1", Ref("DB1_*=prod/db1", Locator("prod/db1"), prefix="DB1_")),
        ("DB*=sm://prod/db1", Ref("DB*=sm://prod/db1", Locator("prod/db1"), prefix="DB")),
        ("*=prod/db1", Ref("*=prod/db1", Locator("prod/db1"), prefix="")),
        ("P_*=db#conn", Ref("P_*=db#conn", Locator("db"), key=("conn",), prefix="P_")),
        ("P_*=ssm:///app/", Ref("P_*=ssm:///app/", Locator("/app/", backend="ssm"), prefix="P_")),
        # A name with '=' keeps working: '*' is never part of a secret name.
        ("team/a=b", Ref("team/a=b", Locator("team/a=b"))),
        # Selections: a name prefix, or a tag.
        ("sm://prod/app/*", Ref("sm://prod/app/*", Locator("prod/app/*"))),
        ("prod/app/*", Ref("prod/app/*", Locator("prod/app/*"))),
        ("APP_*=sm://prod/app/*", Ref("APP_*=sm://prod/app/*", Locator("prod/app/*"), prefix="APP_")),
        ("sm://?tag:app=billing", Ref("sm://?tag:app=billing", Locator("", tag=("app", "billing")))),
        ("sm://?tag:a=b=c", Ref("sm://?tag:a=b=c", Locator("", tag=("a", "b=c")))),
        (
            "B_*=sm://?tag:app=billing",
            Ref("B_*=sm://?tag:app=billing", Locator("", tag=("app", "billing")), prefix="B_"),
        ),
        # A key may still end with '*'.
        ("db#key*", Ref("db#key*", Locator("db"), key=("key*",))),
    ],
)
def test_prefix_and_selection_grammar(text: str, expected: Ref) -> None:
    assert parse_ref(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "X=prod/app/*",  # a selection sets many variables
        "X=sm://?tag:app=billing",
        "prod/app/*#key",
        "prod/app/*?version-stage=AWSPREVIOUS",
        "sm://*",  # every secret in the account: name a prefix
        "prod/*/x",
        "prod/app/**",
        "sm://?tag:app",
        "sm://?tag:=billing",
        "sm://?tag:app=",
        "sm://?tag:app=a#b",
        "1X_*=db",
    ],
)
def test_malformed_prefixes_and_selections(text: str) -> None:
    with pytest.raises(RefError) as info:
        parse_ref(text)
    assert info.value.hint


def test_selection_locators() -> None:
    by_name, by_tag = Locator("prod/app/*"), Locator("", tag=("app", "billing"))
    assert (by_name.name_prefix, by_name.is_selection, by_name.describe()) == (
        "prod/app/",
        True,
        "secrets under 'prod/app/'",
    )
    assert (by_tag.name_prefix, by_tag.is_selection, by_tag.describe()) == (None, True, "secrets tagged 'app=billing'")
    assert str(by_tag) == "sm://?tag:app=billing"
    assert not Locator("prod/app").is_selection
    assert not Locator("/app/", backend="ssm").is_selection
    assert split_assignment("DB1_*=prod/db") == ("DB1_*", "prod/db")


ROLE = "arn:aws:iam::210987654321:role/reader"


@pytest.mark.parametrize(
    ("text", "role", "external_id", "failover", "key"),
    [
        (f"sm://prod/db?role={ROLE}", ROLE, None, (), None),
        (f"prod/db#pw?role={ROLE}&external-id=team-a", ROLE, "team-a", (), ("pw",)),
        (f"DB=prod/db?version-stage=AWSPREVIOUS&role={ROLE}&failover-region=us-west-2,eu-west-1", ROLE, None,
         ("us-west-2", "eu-west-1"), None),
        (f"prod/app/*?role={ROLE}", ROLE, None, (), None),
        (f"sm://?tag:app=billing&role={ROLE}", ROLE, None, (), None),
        (f"ssm:///app/db?role={ROLE}", ROLE, None, (), None),
        ("ssm:///app/?failover-region=us-west-2", None, None, ("us-west-2",), None),
        (f"arn:aws:secretsmanager:us-east-1:123456789012:secret:x?role={ROLE}", ROLE, None, (), None),
        ("prod/db?failover-region=us-west-2", None, None, ("us-west-2",), None),
    ],
)  # fmt: skip
def test_access_keys(
    text: str, role: str | None, external_id: str | None, failover: tuple[str, ...], key: tuple[str, ...] | None
) -> None:
    ref = parse_ref(text)
    assert (ref.locator.role, ref.locator.external_id, ref.locator.failover, ref.key) == (role, external_id,
                                                                                          failover, key)  # fmt: skip


@pytest.mark.parametrize(
    "text",
    ["x?role=nope", "x?role=arn:aws:iam::12:role/r", "x?external-id=abc", f"x?role={ROLE}&external-id=a",
     "x?failover-region=mars", "x?failover-region=us-west-2,us-west-2", f"x?role={ROLE}&role={ROLE}",
     "ssm:///a/b?failover-region=", "prod/*?version-stage=AWSCURRENT"],
)  # fmt: skip
def test_bad_access_keys_are_refused_with_a_hint(text: str) -> None:
    with pytest.raises(RefError) as e:
        parse_ref(text)
    assert e.value.hint


def test_a_failover_read_keeps_the_name_and_replaces_an_arns_region() -> None:
    by_name = parse_ref("prod/db?failover-region=us-west-2").locator
    assert by_name.in_region("us-west-2").region == "us-west-2" and by_name.in_region("us-west-2").failover == ()
    arn = parse_ref("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf").locator
    assert arn.in_region("us-west-2").secret_id == "arn:aws:secretsmanager:us-west-2:123456789012:secret:prod/db-AbCdEf"
