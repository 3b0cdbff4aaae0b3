import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envinject.errors import EnvinjectError, NamingError, SecretFormatError
from envinject.plan import Plan
from envinject.rules.bindings import FileTemplate, Naming, Options, layered_entries
from envinject.rules.envfile import Literal
from envinject.rules.environment import Binding
from envinject.rules.naming import CATEGORIES, Category, protection
from envinject.rules.refs import Locator, Ref
from envinject.rules.template import parse_template
from envinject.settings import Settings
from envinject.sources import Payload
from envinject.sources.memory import MemorySource
from tests.resolve import resolve
from tests.unit.test_naming import category_member

CANARY = "canary-Zx81-value"


def text(value: str) -> Payload:
    return Payload(text=value)


def env(refs: list[str], secrets: dict[str, Payload], **naming: object) -> dict[str, str]:
    bindings = resolve(refs, MemorySource(secrets), Options(naming=Naming(**naming)))  # type: ignore[arg-type]
    out: dict[str, str] = {}
    for b in bindings:
        out[b.name] = b.value
    return out


SEED = {"APIKEYS": text('{"openai": "sk-1", "anthropic": "sk-ant-2"}')}


def test_seed_scenario() -> None:
    assert env(["APIKEYS"], SEED) == {"OPENAI": "sk-1", "ANTHROPIC": "sk-ant-2"}


def test_prefix_and_keep_case() -> None:
    assert env(["APIKEYS"], SEED, prefix="APP_") == {"APP_OPENAI": "sk-1", "APP_ANTHROPIC": "sk-ant-2"}
    assert env(["APIKEYS"], SEED, case="keep") == {"openai": "sk-1", "anthropic": "sk-ant-2"}


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
    source = MemorySource(SEED)
    resolve(["APIKEYS", "X=APIKEYS#openai", "sm://APIKEYS"], source)
    assert source.calls == [[Locator("APIKEYS")]]


def test_binary_secret_that_is_utf8_follows_the_text_rules() -> None:
    assert env(["b"], {"b": Payload(binary=b'{"k": "v"}')}) == {"K": "v"}
    assert env(["V=b"], {"b": Payload(binary="é".encode())}) == {"V": "é"}


def raises(refs: list[str], secrets: dict[str, Payload], kind: type[EnvinjectError], *words: str) -> str:
    with pytest.raises(kind) as info:
        resolve(refs, MemorySource(secrets))
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


@pytest.mark.parametrize(
    ("refs", "document", "where"),
    [
        (["s"], '{"a": "x\\ud800y"}', "'s#a'"),
        (["s"], '{"db": {"pw": "\\udfff' + CANARY + '"}}', "'s#db.pw'"),
        (["s#a"], '{"a": "\\udbff"}', "'s#a'"),
        (["V=s"], "x\ud800", "'s'"),  # a SecretString that AWS's JSON answer escaped that way
    ],
)
def test_lone_surrogate_names_the_secret_and_key(refs: list[str], document: str, where: str) -> None:
    # json.loads keeps a lone surrogate; no environment, file or terminal can take it as UTF-8.
    message = raises(refs, {"s": text(document)}, SecretFormatError, where, "lone UTF-16 surrogate")
    message.encode("utf-8")  # the message itself can be printed


def test_lone_surrogate_in_a_key_is_named_escaped() -> None:
    message = raises(["s"], {"s": text('{"ok": "1", "\\ud800x": "v"}')}, SecretFormatError, "'s#\\ud800x'", "a key")
    message.encode("utf-8")


def test_a_surrogate_pair_is_one_character() -> None:
    assert env(["s"], {"s": text('{"a": "\\ud83d\\ude00"}')}) == {"A": "\U0001f600"}


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
        resolve(["good", "bad"], MemorySource(secrets))


@pytest.mark.parametrize("name", ["PATH", "LD_PRELOAD", "LD_AUDIT", "DYLD_INSERT_LIBRARIES", "PYTHONPATH",
                                  "NODE_OPTIONS", "BASH_ENV", "IFS", "JAVA_TOOL_OPTIONS", "GIT_CONFIG_COUNT",
                                  "GIT_EXTERNAL_DIFF", "LESSOPEN", "MANPAGER", "BROWSER"])  # fmt: skip
def test_protected_names_need_allow(name: str) -> None:
    secrets = {"evil": text(json.dumps({name.lower(): CANARY}))}
    msg = raises(["evil"], secrets, NamingError, name, "'evil'", f"--allow {name}")
    assert CANARY not in msg
    raises([f"{name}=evil"], secrets, NamingError, name)
    allowed = resolve(["evil"], MemorySource(secrets), Options(allow=frozenset({name})))
    assert [(b.name, b.value) for b in allowed] == [(name, CANARY)]


def test_prefixed_names_are_not_protected() -> None:
    assert env(["p"], {"p": text('{"path": "x"}')}, prefix="APP_") == {"APP_PATH": "x"}


def test_precedence_env_files_then_secrets_then_assignments() -> None:
    secrets = {"a": text('{"token": "from-a"}'), "b": text('{"token": "from-b"}'), "t": text("from-var")}
    env_file = [("f:1", Literal("TOKEN", "from-file", "f:1")), ("f:2", Literal("OTHER", "lit", "f:2"))]
    source = MemorySource(secrets)
    order = [(b.name, b.value) for b in resolve(["TOKEN=t", "b", "a"], source, env_files=[env_file])]
    assert order == [("TOKEN", "from-file"), ("OTHER", "lit"), ("TOKEN", "from-b"), ("TOKEN", "from-a"),
                     ("TOKEN", "from-var")]  # fmt: skip


def test_env_file_reference_errors_name_the_line() -> None:
    entries = [("app.env:7", Ref("X=sm://p#nope", Locator("p"), ("nope",), "X"))]
    with pytest.raises(SecretFormatError) as info:
        resolve([], MemorySource({"p": text('{"k": "v"}')}), env_files=[entries])
    assert str(info.value).startswith("app.env:7: secret 'p' has no key 'nope'")


def test_hostile_keys_are_escaped_in_the_missing_key_hint() -> None:
    keys = {"a\nenvinject: everything is fine": "1", "b\x1b]0;pwned\x07": "2", "c" * 10_000: "3"}
    with pytest.raises(SecretFormatError) as info:
        env(["APP#nokey"], {"APP": text(json.dumps(keys))})
    assert info.value.kind == "key_missing"
    hint = info.value.hint or ""
    assert hint.isprintable() and len(hint) < 1000
    assert "'a\\nenvinject: everything is fine'" in hint and "'b\\x1b]0;pwned\\x07'" in hint


@pytest.mark.parametrize("document", ['{"a":' * 5_000 + "1" + "}" * 5_000, '{"a": ' + "[" * 990 + "]" * 990 + "}"])
def test_deep_json_is_one_clear_error(document: str) -> None:
    with pytest.raises(SecretFormatError) as info:
        env(["APP"], {"APP": text(document)})
    assert str(info.value) == (
        "secret 'APP' nests JSON objects or arrays more than 100 levels deep; flatten it, or write VAR=NAME to "
        "inject the text whole"
    )


RDS = {
    "prod/db1": text(json.dumps({"username": "u1", "password": CANARY + "1", "host": "h1"})),
    "prod/db2": text(json.dumps({"username": "u2", "password": CANARY + "2", "host": "h2"})),
}


def warned(refs: list[str], secrets: dict[str, Payload], **options: object) -> tuple[dict[str, str], list[str]]:
    lines: list[str] = []
    bindings = resolve(refs, MemorySource(secrets), Options(**options), warn=lines.append)  # type: ignore[arg-type]
    return {b.name: b.value for b in bindings}, lines


def test_a_secret_replacing_another_ones_variable_warns_once_per_variable_with_no_value() -> None:
    env_, lines = warned(["prod/db1", "prod/db2"], RDS)
    assert env_["PASSWORD"] == CANARY + "2"  # the later one still wins
    assert len(lines) == 3
    assert sorted(line.split()[0] for line in lines) == ["HOST", "PASSWORD", "USERNAME"]
    for line in lines:
        assert "'prod/db1'" in line and "'prod/db2'" in line and "--layered" in line
        assert CANARY not in line and "u1" not in line and "h2" not in line


def test_layered_says_the_override_is_meant() -> None:
    env_, lines = warned(["prod/db1", "prod/db2"], RDS, layered=True)
    assert (env_["USERNAME"], lines) == ("u2", [])


def test_an_explicit_assignment_over_a_key_warns_too() -> None:
    _, lines = warned(["prod/db1", "USERNAME=prod/db2#username"], RDS)
    assert len(lines) == 1 and "'prod/db1'" in lines[0] and "'USERNAME=prod/db2#username'" in lines[0]


def test_the_same_key_of_the_same_secret_twice_is_no_override() -> None:
    assert warned(["prod/db1", "prod/db1", "prod/db1#username"], RDS)[1] == []


def test_an_env_file_literal_replaced_by_a_secret_is_no_warning() -> None:
    lines: list[str] = []
    env_file = [("f:1", Literal("USERNAME", "default", "f:1"))]
    resolve(["prod/db1"], MemorySource(RDS), Options(), env_files=[env_file], warn=lines.append)
    assert lines == []


def test_per_reference_prefix_keeps_both_databases() -> None:
    env_, lines = warned(["DB1_*=prod/db1", "DB2_*=prod/db2"], RDS)
    assert lines == []
    assert env_ == {
        "DB1_USERNAME": "u1", "DB1_PASSWORD": CANARY + "1", "DB1_HOST": "h1",
        "DB2_USERNAME": "u2", "DB2_PASSWORD": CANARY + "2", "DB2_HOST": "h2",
    }  # fmt: skip


def test_per_reference_prefix_replaces_the_global_prefix_and_follows_the_case() -> None:
    naming = Naming(prefix="APP_", case="lower")
    env_, _ = warned(["DB1_*=prod/db1#username", "prod/db2#host", "*=prod/db2#password"], RDS, naming=naming)
    assert env_ == {"DB1_username": "u1", "APP_host": "h2", "password": CANARY + "2"}


@pytest.mark.parametrize(("prefix", "name"), [("DB_", "DB_7VALUE"), ("DB", "DB7VALUE"), ("", "7VALUE")])
def test_a_prefix_is_written_as_is_no_underscore_is_added(prefix: str, name: str) -> None:
    secrets = {"DB": text('{"7Value": "test-value"}')}
    if name[0].isdigit():
        raises([f"{prefix}*=DB"], secrets, NamingError, "'7VALUE'", "P_*=REF")
    else:
        assert env([f"{prefix}*=DB"], secrets) == {name: "test-value"}
        assert env(["DB"], secrets, prefix=prefix) == {name: "test-value"}  # the same rule as --prefix


def test_a_prefix_keeps_the_protected_name_check_on_the_full_name() -> None:
    raises(["LD_*=x"], {"x": text('{"preload": "a"}')}, NamingError, "LD_PRELOAD", "--allow")


def selection(**members: str) -> Payload:
    return Payload(version_id="v", members=tuple((name, text(value)) for name, value in sorted(members.items())))


def test_a_selection_flattens_each_secret_and_its_clashes_warn() -> None:
    secrets = {
        "prod/app/*": selection(
            **{"prod/app/a": '{"user": "ua", "a_only": "1"}', "prod/app/b": '{"user": "ub", "db": {"host": "h"}}'}
        )
    }
    env_, lines = warned(["APP_*=prod/app/*"], secrets)
    assert env_ == {"APP_USER": "ub", "APP_A_ONLY": "1", "APP_DB_HOST": "h"}
    assert len(lines) == 1 and "APP_USER from 'prod/app/a' is replaced by the later 'prod/app/b'" in lines[0]


def test_a_plain_text_secret_in_a_selection_is_an_error_naming_it() -> None:
    secrets = {"prod/app/*": selection(**{"prod/app/a": '{"x": "1"}', "prod/app/token": CANARY})}
    raises(["prod/app/*"], secrets, SecretFormatError, "'prod/app/token'", "plain text")


def test_a_prefix_names_the_parameters_of_a_path() -> None:
    from envinject.sources import Item

    items = (Item(("db", "host"), "h", "ssm:///app/db/host"), Item(("url",), "u", "ssm:///app/url"))
    source = MemorySource({"/app/": Payload(items=items)})
    bindings = resolve(["P_*=ssm:///app/"], source, Options(Naming(prefix="IGNORED_")))
    assert {b.name: b.value for b in bindings} == {"P_DB_HOST": "h", "P_URL": "u"}


def test_a_top_level_empty_object_sets_no_variable_and_says_so() -> None:
    empty = {"EMPTY": text("{}"), "NESTED": text('{"a": {}}')}
    assert env(["EMPTY"], empty) == {}
    assert env(["EMPTY"], empty, prefix="X_") == {}
    assert env(["NESTED"], empty) == {"A": "{}"}  # an empty object below the top stays `{}`
    assert env(["V=EMPTY"], empty) == {"V": "{}"}  # the text whole, as written
    notes: list[str] = []
    resolve(["EMPTY", "NESTED"], MemorySource(empty), Options(), note=notes.append)
    assert notes == ["EMPTY: secret 'EMPTY' is an empty JSON object, so it sets no variable"]


# ---------------------------------------------------------------------------------------------------------
# Protected names by category: refused from keys, gathered across a run, one explicit word to pass.

#: The issue's reports: an ordinary key of a secret (lower case, as JSON keys are) set each of these.
REPORTED_KEYS = [
    "makeflags", "home", "xdg_config_home", "openssl_conf", "sslkeylogfile", "aws_endpoint_url_secrets_manager",
    "npm_config_script_shell", "kubeconfig", "aws_config_file", "java_home", "gradle_user_home", "makefiles",
    "https_proxy", "http_proxy", "ssl_cert_file", "requests_ca_bundle", "goenv", "goproxy", "cc", "ldshared",
    "viminit", "ps1", "ps0",
]  # fmt: skip


@pytest.mark.parametrize("key", REPORTED_KEYS)
def test_a_key_cannot_set_a_reported_name(key: str) -> None:
    name = key.upper()
    category = protection(name)
    assert category is not None
    message = raises(["evil"], {"evil": text(json.dumps({key: CANARY}))}, NamingError, name, "'evil'",
                     f"({category.title})", f"--allow {name}")  # fmt: skip
    assert "\n" not in message
    secrets = {"evil": text(json.dumps({key: CANARY}))}
    allowed = resolve(["evil"], MemorySource(secrets), Options(allow=frozenset({name})))
    assert [(b.name, b.value) for b in allowed] == [(name, CANARY)]


@pytest.mark.parametrize("case", ["lower", "keep"])
def test_a_lower_case_proxy_name_is_refused_too(case: str) -> None:
    # curl reads http_proxy in lower case only; --name-case lower or keep makes that name from a key.
    with pytest.raises(NamingError, match=r"http_proxy \(network and TLS\)"):
        resolve(["p"], MemorySource({"p": text('{"http_proxy": "http://evil:3128"}')}),
                Options(naming=Naming(case=case)))  # fmt: skip


def test_every_refused_name_of_a_run_is_named_at_once() -> None:
    secrets = {
        "evil": text(json.dumps({"ld_preload": CANARY, "home": CANARY, "makeflags": CANARY, "fine": "ok"})),
        "proxy": text(json.dumps({"https_proxy": CANARY})),
        "sel/*": selection(**{"sel/a": json.dumps({"ps1": CANARY})}),
        "later": text(json.dumps({"sslkeylogfile": CANARY})),
    }
    env_file = [("app.env:3", Ref("PYTHONPATH=sm://later#sslkeylogfile", Locator("later"), ("sslkeylogfile",),
                                  "PYTHONPATH"))]  # fmt: skip
    with pytest.raises(NamingError) as info:
        resolve(["evil", "proxy", "sel/*", "later"], MemorySource(secrets), env_files=[env_file])
    error = info.value
    assert error.kind == "protected"
    message = str(error)
    assert CANARY not in message and "\n" not in message
    for name, title in [("LD_PRELOAD", "code loading"), ("HOME", "configuration and home"),
                        ("MAKEFLAGS", "build and package tools"), ("HTTPS_PROXY", "network and TLS"),
                        ("PS1", "shells and editors"), ("SSLKEYLOGFILE", "network and TLS"),
                        ("PYTHONPATH", "code loading")]:  # fmt: skip
        assert f"{name} ({title})" in error.message
        assert f"--allow {name}" in (error.hint or "")
    assert "secret 'evil' would set LD_PRELOAD" in error.message
    assert "secret 'sel/a' would set PS1" in error.message
    assert "app.env:3: secret 'later' would set PYTHONPATH" in error.message
    # Names made from keys in a category a VAR=REF may set can be named instead; code and shells cannot.
    assert "or name HOME, MAKEFLAGS, HTTPS_PROXY, SSLKEYLOGFILE yourself" in (error.hint or "")
    everything = frozenset({"LD_PRELOAD", "HOME", "MAKEFLAGS", "HTTPS_PROXY", "PS1", "SSLKEYLOGFILE", "PYTHONPATH"})
    got = resolve(["evil", "proxy", "sel/*", "later"], MemorySource(secrets), Options(allow=everything),
                  env_files=[env_file])  # fmt: skip
    assert {b.name for b in got} == everything | {"FINE"}


def test_a_refused_run_warns_of_no_override() -> None:
    lines: list[str] = []
    secrets = {"a": text('{"user": "1"}'), "b": text('{"user": "2", "ld_preload": "x"}')}
    with pytest.raises(NamingError):
        resolve(["a", "b"], MemorySource(secrets), warn=lines.append)
    assert lines == []


@pytest.mark.parametrize(
    ("name", "passes"),
    # A name the deployer writes (VAR=REF) is their word for configuration, build and network names (a proxy URL
    # with a password, an index URL with a token, a kubeconfig); never for code loading or a shell's start-up.
    [("HTTPS_PROXY", True), ("http_proxy", True), ("PIP_INDEX_URL", True), ("KUBECONFIG", True),
     ("AWS_ENDPOINT_URL", True), ("NPM_CONFIG_REGISTRY", True), ("LD_PRELOAD", False), ("PYTHONPATH", False),
     ("NODE_OPTIONS", False), ("PATH", False), ("PS1", False), ("BASH_ENV", False), ("GIT_CONFIG_COUNT", False)],
)  # fmt: skip
def test_an_explicit_name_passes_by_category(name: str, passes: bool) -> None:
    secrets = {"s": text(json.dumps({"v": CANARY}))}
    for ref in (f"{name}=s#v", Ref(f"{name}=file:s#v", Locator("s"), ("v",), name, as_file=True)):
        if passes:
            assert [b.name for b in resolve([ref], MemorySource(secrets))] == [name]
        else:
            with pytest.raises(NamingError) as info:
                resolve([ref], MemorySource(secrets))
            assert f"--allow {name}" in str(info.value) and "yourself" not in str(info.value)
    # Made from a key instead, every one of them is refused.
    with pytest.raises(NamingError):
        resolve(["k"], MemorySource({"k": text(json.dumps({name: CANARY}))}), Options(naming=Naming(case="keep")))


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(CATEGORIES).flatmap(lambda c: st.tuples(st.just(c), category_member(c))))
def test_any_member_of_a_category_is_refused_from_a_key_and_allowed_by_name(drawn: tuple[Category, str]) -> None:
    _, name = drawn
    secrets = {"s": text(json.dumps({name: CANARY}))}
    keep = Naming(case="keep")
    with pytest.raises(NamingError) as info:
        resolve(["s"], MemorySource(secrets), Options(naming=keep))
    assert CANARY not in str(info.value) and f"--allow {name}" in str(info.value)
    got = resolve(["s"], MemorySource(secrets), Options(naming=keep, allow=frozenset({name})))
    assert [(b.name, b.value) for b in got] == [(name, CANARY)]


def test_a_refusal_of_many_names_is_one_line_and_cut() -> None:
    keys = {f"LD_{i}": CANARY for i in range(1000)} | {"LD_" + "A" * 5000: CANARY}
    with pytest.raises(NamingError) as info:
        resolve(["s"], MemorySource({"s": text(json.dumps(keys))}))
    message = str(info.value)
    assert CANARY not in message
    assert len(message) < 2000
    assert "and 981 more" in info.value.message and "(and 981 more)" in (info.value.hint or "")
    with pytest.raises(NamingError) as info:  # one name of 5003 characters is cut as any quoted input is
        resolve(["s"], MemorySource({"s": text(json.dumps({"LD_" + "A" * 5000: CANARY}))}))
    assert "'... (5003 characters) (code loading)" in str(info.value) and len(str(info.value)) < 1000


def test_check_reports_each_reference_with_its_own_refusals() -> None:
    secrets = {"a": text('{"ld_preload": "x", "home": "y"}'), "b": text('{"ok": "1"}')}
    plan = Plan(Settings(), {}, layered_entries(["a", "b"]), [], Options())
    seen: dict[str, str] = {}

    def outcome(where: str, ref: Ref, result: list[Binding] | EnvinjectError) -> None:
        seen[where] = result.kind + ": " + str(result) if isinstance(result, EnvinjectError) else "ok"

    plan.bind(plan.fetch(MemorySource(secrets)), outcome=outcome)
    assert seen["b"] == "ok"
    assert seen["a"].startswith("protected: secret 'a' would set LD_PRELOAD (code loading), HOME (configuration")


@pytest.mark.parametrize(("var", "refused"), [("PS1", True), ("LD_PRELOAD", True), ("KUBECONFIG", False)])
def test_a_template_is_a_name_the_deployer_wrote(var: str, refused: bool) -> None:
    template = FileTemplate(var, parse_template("x={{ sm://s#k }}\n", "t.tpl"), "dotenv")
    plan = Plan(Settings(), {}, layered_entries(["L=s#ld_preload"]), [template], Options())
    secrets = {"s": text(json.dumps({"k": CANARY, "ld_preload": "x"}))}
    if not refused:
        assert [b.name for b in plan.bind(plan.fetch(MemorySource(secrets)))] == ["L", var]
        return
    with pytest.raises(NamingError) as info:
        plan.bind(plan.fetch(MemorySource(secrets)))
    assert str(info.value).startswith(f"template 't.tpl' would set {var} (")
    # check reports it as a problem of the plan rather than stopping
    checked = Plan(Settings(), {}, layered_entries(["L=s#ld_preload"]), [template], Options())
    checked.bind(checked.fetch(MemorySource(secrets)), outcome=lambda *_: None)
    assert len(checked.problems) == 1 and var in checked.problems[0]
