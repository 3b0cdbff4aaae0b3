import json
from collections.abc import Mapping, Sequence

import pytest

from envinject.envfile import Literal
from envinject.errors import EnvinjectError, NamingError, SecretFormatError
from envinject.inject import Naming, Options, resolve
from envinject.refs import Locator, Ref
from envinject.sources import Payload

CANARY = "canary-Zx81-value"


class FakeSource:
    """A source over a dict, recording what was asked."""

    def __init__(self, secrets: dict[str, Payload]) -> None:
        self.secrets = secrets
        self.calls: list[list[Locator]] = []

    def fetch_many(self, locators: Sequence[Locator]) -> Mapping[Locator, Payload]:
        self.calls.append(list(locators))
        return {loc: self.secrets[loc.secret_id] for loc in locators}


def text(value: str) -> Payload:
    return Payload(text=value)


def env(refs: list[str], secrets: dict[str, Payload], **naming: object) -> dict[str, str]:
    bindings = resolve(refs, FakeSource(secrets), Options(naming=Naming(**naming)))  # type: ignore[arg-type]
    out: dict[str, str] = {}
    for b in bindings:
        out[b.name] = b.value
    return out


SEED = {"APIKEYS": text('{"openai": "sk-1", "anthropic": "sk-ant-2"}')}


def test_seed_scenario() -> None:
    assert env(["APIKEYS"], SEED) == {"OPENAI": "sk-1", "ANTHROPIC": "sk-ant-2"}


def test_prefix_and_keep_case() -> None:
    assert env(["APIKEYS"], SEED, prefix="APP_") == {"APP_OPENAI": "sk-1", "APP_ANTHROPIC": "sk-ant-2"}
    assert env(["APIKEYS"], SEED, keep_case=True) == {"openai": "sk-1", "anthropic": "sk-ant-2"}


def test_assignment_takes_the_whole_text() -> None:
    assert env(["TOKEN=plain"], {"plain": text("just text\nwith lines")}) == {"TOKEN": "just text\nwith lines"}
    whole = '{"a": 1}'
    assert env(["J=obj"], {"obj": text(whole)}) == {"J": whole}


def test_key_selection() -> None:
    secrets = {"db": text('{"conn": {"host": "h", "port": 5432}, "a.b": "dot"}')}
    assert env(["db#conn.host"], secrets) == {"CONN_HOST": "h"}
    assert env(["db#conn"], secrets) == {"CONN_HOST": "h", "CONN_PORT": "5432"}
    assert env(["H=db#conn.port"], secrets) == {"H": "5432"}
    assert env(["D=db#a\\.b"], secrets) == {"D": "dot"}
    assert env(["C=db#conn"], secrets) == {"C": '{"host":"h","port":5432}'}


def test_later_reference_wins() -> None:
    secrets = {"a": text('{"k": "from-a"}'), "b": text('{"k": "from-b"}')}
    assert env(["a", "b"], secrets) == {"K": "from-b"}
    assert env(["b", "a"], secrets) == {"K": "from-a"}


def test_a_secret_named_twice_is_fetched_once() -> None:
    source = FakeSource(SEED)
    resolve(["APIKEYS", "X=APIKEYS#openai", "sm://APIKEYS"], source)
    assert source.calls == [[Locator("APIKEYS")]]


def test_binary_secret_that_is_utf8_follows_the_text_rules() -> None:
    assert env(["b"], {"b": Payload(binary=b'{"k": "v"}')}) == {"K": "v"}
    assert env(["V=b"], {"b": Payload(binary="é".encode())}) == {"V": "é"}


def raises(refs: list[str], secrets: dict[str, Payload], kind: type[EnvinjectError], *words: str) -> str:
    with pytest.raises(kind) as info:
        resolve(refs, FakeSource(secrets))
    message = str(info.value)
    assert CANARY not in message
    assert info.value.exit_code == 125
    for w in words:
        assert w in message
    return message


def test_plain_text_without_var_tells_to_use_var() -> None:
    raises(["plain"], {"plain": text(CANARY)}, SecretFormatError, "'plain'", "VAR=plain")
    # with a key and an assignment, the hint is the same assignment taking the text whole
    message = raises(["X=plain#k"], {"plain": text(CANARY)}, SecretFormatError, "write X=plain to put it whole into X")
    assert "#k" not in message


def test_json_but_not_an_object() -> None:
    raises(["arr"], {"arr": text(f'["{CANARY}"]')}, SecretFormatError, "'arr'", "VAR=arr")


def test_invalid_json_names_the_position_not_the_content() -> None:
    raises(["bad"], {"bad": text('{"k": "' + CANARY + '",}')}, SecretFormatError, "'bad'", "not valid JSON", "line 1")


def test_collision_names_both_keys() -> None:
    raises(
        ["c"],
        {"c": text(f'{{"api-key": "{CANARY}", "API_KEY": "x"}}')},
        NamingError,
        "'c#api-key'",
        "'c#API_KEY'",
        "API_KEY",
    )


def test_invalid_name() -> None:
    raises(["n"], {"n": text(f'{{"1password": "{CANARY}"}}')}, NamingError, "'n#1password'", "--prefix")


def test_nul_in_value() -> None:
    raises(["z"], {"z": text(f'{{"k": "{CANARY}\\u0000"}}')}, SecretFormatError, "NUL", "K")


def test_missing_key_lists_the_keys_not_the_values() -> None:
    msg = raises(["s#nope"], {"s": text(f'{{"here": "{CANARY}"}}')}, SecretFormatError, "'nope'", "here")
    assert "here" in msg


def test_duplicate_key() -> None:
    raises(["d"], {"d": text(f'{{"k": "{CANARY}", "k": "x"}}')}, SecretFormatError, "repeats the key 'k'")


def test_binary_not_utf8() -> None:
    raises(["b"], {"b": Payload(binary=b"\xff\xfe" + CANARY.encode())}, SecretFormatError, "binary")


def test_failure_in_one_reference_fails_all() -> None:
    # all-or-nothing: resolve returns nothing when any reference is bad
    secrets = {"good": text('{"a": "1"}'), "bad": text("plain")}
    with pytest.raises(SecretFormatError):
        resolve(["good", "bad"], FakeSource(secrets))


@pytest.mark.parametrize("name", ["PATH", "LD_PRELOAD", "LD_AUDIT", "DYLD_INSERT_LIBRARIES", "PYTHONPATH",
                                  "NODE_OPTIONS", "BASH_ENV", "IFS", "JAVA_TOOL_OPTIONS"])  # fmt: skip
def test_protected_names_need_allow(name: str) -> None:
    secrets = {"evil": text(json.dumps({name.lower(): CANARY}))}
    msg = raises(["evil"], secrets, NamingError, name, "'evil'", f"--allow {name}")
    assert CANARY not in msg
    raises([f"{name}=evil"], secrets, NamingError, name)
    allowed = resolve(["evil"], FakeSource(secrets), Options(allow=frozenset({name})))
    assert [(b.name, b.value) for b in allowed] == [(name, CANARY)]


def test_prefixed_names_are_not_protected() -> None:
    assert env(["p"], {"p": text('{"path": "x"}')}, prefix="APP_") == {"APP_PATH": "x"}


def test_precedence_env_files_then_secrets_then_assignments() -> None:
    secrets = {"a": text('{"token": "from-a"}'), "b": text('{"token": "from-b"}'), "t": text("from-var")}
    env_file = [("f:1", Literal("TOKEN", "from-file", "f:1")), ("f:2", Literal("OTHER", "lit", "f:2"))]
    source = FakeSource(secrets)
    order = [(b.name, b.value) for b in resolve(["TOKEN=t", "b", "a"], source, env_files=[env_file])]
    assert order == [("TOKEN", "from-file"), ("OTHER", "lit"), ("TOKEN", "from-b"), ("TOKEN", "from-a"),
                     ("TOKEN", "from-var")]  # fmt: skip


def test_env_file_reference_errors_name_the_line() -> None:
    entries = [("app.env:7", Ref("X=sm://p#nope", Locator("p"), ("nope",), "X"))]
    with pytest.raises(SecretFormatError) as info:
        resolve([], FakeSource({"p": text('{"k": "v"}')}), env_files=[entries])
    assert str(info.value).startswith("app.env:7: secret 'p' has no key 'nope'")


def test_a_top_level_empty_object_sets_no_variable_and_says_so() -> None:
    empty = {"EMPTY": text("{}"), "NESTED": text('{"a": {}}')}
    assert env(["EMPTY"], empty) == {}
    assert env(["EMPTY"], empty, prefix="X_") == {}
    assert env(["NESTED"], empty) == {"A": "{}"}  # an empty object below the top stays `{}`
    assert env(["V=EMPTY"], empty) == {"V": "{}"}  # the text whole, as written
    notes: list[str] = []
    resolve(["EMPTY", "NESTED"], FakeSource(empty), Options(), note=notes.append)  # type: ignore[arg-type]
    assert notes == ["EMPTY: secret 'EMPTY' is an empty JSON object, so it sets no variable"]
