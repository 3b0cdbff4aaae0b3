import os
from pathlib import Path
from typing import Any

import pytest

from envinject.configfile import ConfigFile, find_config, load_config
from envinject.errors import ConfigError
from envinject.options import RunOptions
from envinject.plan import client_factory
from envinject.settings import ENVIRONMENT, KEYS, Settings, resolve_settings, split_secrets
from envinject.sources.endpoints import SERVICE_VARIABLES, endpoint
from envinject.validate import settings_values as validate
from envinject.validate import signal_number as stop_signal_number
from envinject.validate import validate as validate_command


def check_options(settings: Settings, **run: Any) -> None:
    """What a run checks before any request: the settings and the run's own options."""
    validate_command(settings, RunOptions(command=["true"], **run))


WARNINGS: list[str] = []


def test_defaults() -> None:
    assert resolve_settings({}, {}) == Settings()


def test_command_line_over_config_over_default(tmp_path: Path) -> None:
    config = ConfigFile(tmp_path / "envinject.toml", {"prefix": "CFG_", "region": "eu-west-1", "timeout": 3})
    s = resolve_settings({"prefix": "CLI_", "region": None, "keep_case": None}, {}, config)
    assert (s.prefix, s.region, s.timeout, s.name_case) == ("CLI_", "eu-west-1", 3, "upper")


def test_lists_add_command_line_after_config(tmp_path: Path) -> None:
    config = ConfigFile(tmp_path / "envinject.toml", {"secrets": ("a",), "require": ("X",), "env_files": ("a.env",)})
    s = resolve_settings({"secrets": ["b"], "require": None, "env_files": ["/abs/b.env"]}, {}, config)
    assert s.secrets == ("a", "b")
    assert s.require == ("X",)
    # Config paths are relative to the config file; command-line paths to the current folder.
    assert s.env_files == (str(tmp_path / "a.env"), "/abs/b.env")


def test_environment_variable_stands_in_for_secret_options() -> None:
    assert resolve_settings({}, {"ENVINJECT_SECRETS": "a, b\tc"}).secrets == ("a", "b", "c")
    assert resolve_settings({"secrets": ["x"]}, {"ENVINJECT_SECRETS": "a"}).secrets == ("x",)
    assert split_secrets(" ,a,,b ") == ("a", "b")


def test_discovery_walks_up_and_prefers_envinject_toml(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text('[tool.envinject]\nsecrets = ["from-pyproject"]\n')
    found = find_config(deep, home=None, warn=WARNINGS.append)
    assert found is not None
    assert found.values["secrets"] == ("from-pyproject",)
    (tmp_path / "a" / "pyproject.toml").write_text("[project]\nname = 'x'\n")  # no table: keep looking
    assert find_config(deep, home=None, warn=WARNINGS.append).path == tmp_path / "pyproject.toml"  # type: ignore[union-attr]
    (tmp_path / "a" / "envinject.toml").write_text('secrets = "near"\nenv-files = ["x.env"]\n')
    near = find_config(deep, home=None, warn=WARNINGS.append)
    assert near is not None
    assert near.path == tmp_path / "a" / "envinject.toml"
    assert near.values == {"secrets": ("near",), "env_files": ("x.env",)}


def test_one_reference_may_be_a_string_as_the_error_for_a_number_says(tmp_path: Path) -> None:
    path = tmp_path / "envinject.toml"
    path.write_text('secrets = "APIKEYS"\nrequire = "OPENAI"\n')
    found = load_config(path, warn=WARNINGS.append)
    assert found is not None
    assert (found.values["secrets"], found.values["require"]) == (("APIKEYS",), ("OPENAI",))


def test_nothing_found(tmp_path: Path) -> None:
    assert find_config(tmp_path, home=None, warn=WARNINGS.append) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("secret = ['x']\n", ["unknown setting 'secret'", "secrets"]),
        ("secrets = [1]\n", ["secrets must be a string or a list of strings"]),
        ("secrets = 5\n", ["secrets must be a string or a list of strings"]),
        ("max-attempts = true\n", ["max-attempts must be a whole number"]),
        ("keep_case = 'yes'\n", ["keep_case must be true or false"]),
        ("timeout = true\n", ["timeout must be a number"]),
        ("prefix = 1\n", ["prefix must be a string"]),
        ("secrets = [\n", ["not valid TOML"]),
    ],
)
def test_bad_config_is_an_error_naming_the_file(tmp_path: Path, text: str, words: list[str]) -> None:
    path = tmp_path / "envinject.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, warn=WARNINGS.append)
    assert str(path) in str(info.value)
    for w in words:
        assert w in str(info.value)


def test_name_case_and_its_older_spelling() -> None:
    assert resolve_settings({}, {}).name_case == "upper"
    assert resolve_settings({"name_case": "lower"}, {}).name_case == "lower"
    assert resolve_settings({"keep_case": True}, {}).name_case == "keep"
    assert resolve_settings({"keep_case": False}, {}).name_case == "upper"
    # --keep-case on the command line beats the config file's name-case, as any scalar does.
    config = ConfigFile(Path("envinject.toml"), validate({"name-case": "lower"}, "envinject.toml"))
    assert resolve_settings({"keep_case": True}, {}, config).name_case == "keep"
    assert validate({"keep-case": True}, "f")["name_case"] == "keep"
    assert resolve_settings({"layered": True}, {}).layered
    assert validate({"layered": True}, "f") == {"layered": True}


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({"name_case": "title"}, ["name-case", "upper, lower or keep"]),
        ({"name_case": "lower", "keep_case": True}, ["disagree"]),
    ],
)
def test_bad_name_case(given: dict[str, object], words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_settings(given, {})
    assert all(w in str(info.value) for w in words)
    with pytest.raises(ConfigError):
        validate({k.replace("_", "-"): v for k, v in given.items()}, "envinject.toml")


# Precedence, one row per setting (and per environment variable): what is given on the command line, in the
# environment and in the config file, then the value that wins with the defaults alone, with the config file,
# with the config file and the environment, and with all three. "endpoint_url:SERVICE" is the endpoint a client
# for that service is made with.
R1, R2, R3 = (f"arn:aws:iam::{n * 12}:role/r" for n in "123")
CLI_ENV_CONFIG: list[tuple[str, Any, dict[str, str], Any, tuple[Any, Any, Any, Any]]] = [
    ("secrets", ["c"], {"ENVINJECT_SECRETS": "e1,e2"}, ["f"], ((), ("f",), ("f", "e1", "e2"), ("f", "c"))),
    ("env_files", ["/c.env"], {}, ["/f.env"], ((), ("/f.env",), ("/f.env",), ("/f.env", "/c.env"))),
    ("require", ["C"], {}, ["F"], ((), ("F",), ("F",), ("F", "C"))),
    ("allow", ["C"], {}, ["F"], ((), ("F",), ("F",), ("F", "C"))),
    ("prefix", "C_", {}, "F_", ("", "F_", "F_", "C_")),
    ("keep_case", False, {}, True, ("upper", "keep", "keep", "upper")),
    ("name_case", "lower", {}, "keep", ("upper", "keep", "keep", "lower")),
    ("files", ["C=c"], {}, ["F=f"], ((), ("F=f",), ("F=f",), ("F=f", "C=c"))),
    ("resolve_env", True, {}, False, (True, False, False, True)),
    # Names add up as a list's items do (ENVINJECT_RESOLVE_ENV standing in for --resolve-env); true or false
    # replaces what a lower level gave.
    ("resolve_env", ["C"], {"ENVINJECT_RESOLVE_ENV": "E1,E2"}, ["F_*"],
     (True, ("F_*",), ("F_*", "E1", "E2"), ("F_*", "C"))),
    ("resolve_env", False, {"ENVINJECT_RESOLVE_ENV": "E"}, ["F"], (True, ("F",), ("F", "E"), False)),
    ("resolve_env", ["C"], {"ENVINJECT_RESOLVE_ENV": "E"}, False, (True, False, ("E",), ("C",))),
    ("layered", False, {}, True, (False, True, True, False)),
    ("override", True, {}, False, (True, False, False, True)),
    ("pristine", False, {}, True, (False, True, True, False)),
    ("batch", True, {}, False, (True, False, False, True)),
    ("via", "auto", {"ENVINJECT_VIA": "agent"}, "api", ("auto", "api", "agent", "auto")),
    ("agent_url", "http://localhost:1", {"ENVINJECT_AGENT_URL": "http://localhost:2"}, "http://localhost:3",
     ("http://localhost:2773", "http://localhost:3", "http://localhost:2", "http://localhost:1")),
    ("role", R1, {"ENVINJECT_ROLE": R2}, R3, (None, R3, R2, R1)),
    ("failover_regions", ["eu-west-1"], {}, ["us-west-2"],
     ((), ("us-west-2",), ("us-west-2",), ("us-west-2", "eu-west-1"))),
    ("timeout", 5.0, {}, 7, (30.0, 7, 7, 5.0)),
    ("max_attempts", 3, {}, 4, (20, 4, 4, 3)),
    ("region", "cli-1", {"AWS_REGION": "env-1", "AWS_DEFAULT_REGION": "env-2"}, "cfg-1",
     (None, "cfg-1", "env-1", "cli-1")),
    ("region", "cli-1", {"AWS_DEFAULT_REGION": "env-2"}, "cfg-1", (None, "cfg-1", "env-2", "cli-1")),
    ("profile", "cli", {"AWS_PROFILE": "env"}, "cfg", (None, "cfg", "env", "cli")),
    ("endpoint_url:secretsmanager", "http://cli", {"AWS_ENDPOINT_URL": "http://env"}, "http://cfg",
     (None, "http://cfg", "http://env", "http://cli")),
    ("endpoint_url:ssm", "http://cli", {"AWS_ENDPOINT_URL": "http://env", "AWS_ENDPOINT_URL_SSM": "http://ssm"},
     "http://cfg", (None, "http://cfg", "http://ssm", "http://cli")),
    ("endpoint_url:secretsmanager", "http://cli", {"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://sm"}, "http://cfg",
     (None, "http://cfg", "http://sm", "http://cli")),
    # The config file's endpoint-url serves the services the environment names no endpoint for.
    ("endpoint_url:ssm", "http://cli", {"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://sm"}, "http://cfg",
     (None, "http://cfg", "http://cfg", "http://cli")),
    ("endpoint_url:sts", "http://cli", {"AWS_ENDPOINT_URL_STS": "http://sts"}, "http://cfg",
     (None, "http://cfg", "http://sts", "http://cli")),
]  # fmt: skip


def _effective(settings: Settings, what: str) -> Any:
    """The setting as the client factory uses it: for "endpoint_url:SERVICE" the endpoint of that service's
    clients, for "profile" the profile of its botocore session (which reads AWS_PROFILE itself), for "keep_case"
    the name_case it sets."""
    factory = client_factory(settings)
    if what.startswith("endpoint_url:"):
        found = endpoint(what.split(":")[1], "us-east-1", factory.settings, os.environ)
        return found.url if found.configured else None
    if what == "profile":
        return factory._get_session().profile
    if what == "keep_case":
        return settings.name_case
    return getattr(settings, what)


@pytest.mark.parametrize(
    ("what", "cli", "env", "cfg", "wins"), CLI_ENV_CONFIG, ids=[f"{r[0]}-{'+'.join(r[2])}" for r in CLI_ENV_CONFIG]
)
def test_command_line_then_environment_then_config_file_then_defaults(
    what: str,
    cli: Any,
    env: dict[str, str],
    cfg: Any,
    wins: tuple[Any, Any, Any, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = what.split(":")[0]
    config = ConfigFile(tmp_path / "envinject.toml", validate({key.replace("_", "-"): cfg}, "envinject.toml"))
    for name in (
        *ENVIRONMENT["region"],
        *ENVIRONMENT["profile"],
        *ENVIRONMENT["endpoint_url"],
        *SERVICE_VARIABLES.values(),
    ):
        monkeypatch.delenv(name, raising=False)
    assert _effective(resolve_settings({}, {}), what) == wins[0]
    assert _effective(resolve_settings({}, {}, config), what) == wins[1]
    for name, value in env.items():
        monkeypatch.setenv(name, value)  # botocore reads the process's environment
    assert _effective(resolve_settings({}, env, config), what) == wins[2]
    assert _effective(resolve_settings({key: cli}, env, config), what) == wins[3]


def test_the_precedence_table_covers_every_setting() -> None:
    assert {row[0].split(":")[0] for row in CLI_ENV_CONFIG} == KEYS


def test_a_client_is_made_with_its_services_endpoint() -> None:
    settings = resolve_settings(
        {},
        {"AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:2"},
        ConfigFile(Path("envinject.toml"), {"endpoint_url": "http://127.0.0.1:1"}),
    )
    factory = client_factory(settings)
    assert factory.client("ssm", "us-east-1").meta.endpoint_url == "http://127.0.0.1:2"
    assert factory.client("secretsmanager", "us-east-1").meta.endpoint_url == "http://127.0.0.1:1"


# Discovery follows git's safe.directory reasoning: it stops at the repository root or $HOME, and a file someone
# else could have written is not obeyed.
SPARE_UID = 4242
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")


def test_discovery_stops_at_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.envinject\n")  # broken, and never read
    (tmp_path / "envinject.toml").write_text('secrets = ["above-the-repo"]\n')
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "sub").mkdir()
    assert find_config(repo / "sub", home=None, warn=WARNINGS.append) is None
    (repo / "envinject.toml").write_text('secrets = ["in-the-repo"]\n')
    found = find_config(repo / "sub", home=None, warn=WARNINGS.append)
    assert found is not None
    assert found.values["secrets"] == ("in-the-repo",)


def test_discovery_stops_at_home(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("not toml at all\n")
    home = tmp_path / "home"
    (home / "project").mkdir(parents=True)
    assert find_config(home / "project", home=home, warn=WARNINGS.append) is None
    (home / "envinject.toml").write_text('secrets = ["mine"]\n')
    assert find_config(home / "project", home=home, warn=WARNINGS.append) is not None


@pytest.mark.parametrize("name", ["envinject.toml", "pyproject.toml"])
def test_a_config_file_others_can_write_is_ignored_with_a_warning(tmp_path: Path, name: str) -> None:
    (tmp_path / "project").mkdir()
    (tmp_path / name).write_text('[tool.envinject]\nsecrets = ["x"]\n' if name == "pyproject.toml" else "secrets = 1")
    (tmp_path / name).chmod(0o666)
    warnings: list[str] = []
    assert find_config(tmp_path / "project", home=None, warn=warnings.append) is None
    assert warnings == [f"ignoring config file {str(tmp_path / name)!r}: others can write to it"]


@needs_root
def test_a_config_file_of_another_owner_is_ignored_and_the_walk_goes_on(tmp_path: Path) -> None:
    (tmp_path / "envinject.toml").write_text('secrets = ["mine"]\n')
    theirs = tmp_path / "shared" / "envinject.toml"
    theirs.parent.mkdir()
    theirs.write_text('secrets = ["theirs"]\nendpoint-url = "http://attacker.example"\n')
    os.chown(theirs, SPARE_UID, SPARE_UID)
    warnings: list[str] = []
    found = find_config(theirs.parent, home=None, warn=warnings.append)
    assert found is not None
    assert found.values == {"secrets": ("mine",)}
    assert warnings == [f"ignoring config file {str(theirs)!r}: it is owned by uid {SPARE_UID}, not by you or root"]


@needs_root
def test_group_write_is_fine_only_for_the_owners_own_group(tmp_path: Path) -> None:
    path = tmp_path / "envinject.toml"
    path.write_text('secrets = ["x"]\n')
    path.chmod(0o664)  # root:root, and root's group has no other member
    assert find_config(tmp_path, home=None, warn=WARNINGS.append) is not None
    os.chown(path, 0, SPARE_UID)
    warnings: list[str] = []
    assert find_config(tmp_path, home=None, warn=warnings.append) is None
    assert warnings == [f"ignoring config file {str(path)!r}: group {SPARE_UID} can write to it"]


@pytest.mark.parametrize("other_owner", [False, True])
def test_env_files_a_config_names_are_checked_the_same_way(tmp_path: Path, other_owner: bool) -> None:
    if other_owner and os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    from envinject.plan import make_plan

    (tmp_path / "envinject.toml").write_text('env-files = ["ok.env", "bad.env"]\n')
    (tmp_path / "ok.env").write_text("A=1\n")
    (tmp_path / "bad.env").write_text("LD_PRELOAD=/tmp/x.so\n")
    if other_owner:
        os.chown(tmp_path / "bad.env", SPARE_UID, SPARE_UID)
    else:
        (tmp_path / "bad.env").chmod(0o646)
    warnings: list[str] = []
    found = find_config(tmp_path, home=None, warn=warnings.append)
    assert found is not None and warnings == []
    # Refused when it is read, as one error: a run without the file's variables would be half a run.
    with pytest.raises(ConfigError) as e:
        make_plan(resolve_settings({}, {}, found), {})
    reason = f"it is owned by uid {SPARE_UID}, not by you or root" if other_owner else "others can write to it"
    bad, config = str(tmp_path / "bad.env"), str(tmp_path / "envinject.toml")
    assert e.value.message == f"env file {bad!r} named in {config!r} is not obeyed: {reason}"


def test_a_file_named_with_config_is_read_whoever_can_write_it(tmp_path: Path) -> None:
    path = tmp_path / "envinject.toml"
    path.write_text('secrets = ["x"]\n')
    path.chmod(0o666)
    found = load_config(path, warn=WARNINGS.append)
    assert found is not None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("tool = 5\n", "tool must be a table"),
        ("[tool]\nenvinject = 5\n", "tool.envinject must be a table"),
        ('[tool]\nenvinject = "x"\n', "tool.envinject must be a table"),
    ],
)
def test_a_pyproject_whose_tool_is_not_a_table(tmp_path: Path, text: str, words: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(ConfigError) as info:
        find_config(tmp_path, home=None, warn=WARNINGS.append)
    assert str(info.value) == f"{str(tmp_path / 'pyproject.toml')!r}: {words}; write [tool.envinject]"


# One check for every number and option, whatever made the Settings (the e2e tests drive it from flags, the
# environment and config files).
@pytest.mark.parametrize(
    ("settings", "run", "message"),
    [
        (Settings(timeout=float("nan")), {}, "--timeout must be a number of seconds from 0.1 to 86400, not nan"),
        (Settings(timeout=True), {}, "--timeout must be a number of seconds from 0.1 to 86400, not True"),
        (Settings(max_attempts=2.5), {}, "--max-attempts must be a whole number from 1 to 100, not 2.5"),  # type: ignore[arg-type]
        (Settings(max_attempts=101), {}, "--max-attempts must be a whole number from 1 to 100, not 101"),
        (Settings(), {"watch": 0.5}, "--watch must be a number of seconds from 1 to 86400, not 0.5"),
        (Settings(), {"kill_timeout": -float("inf")}, "--kill-timeout must be a number of seconds from 0 to 86400"),
        (Settings(), {"stop_signal": "0"}, "--stop-signal is not a known signal"),
        (Settings(), {"restart_on_exit": True}, "--restart-on-exit needs --watch"),
        (Settings(), {"on_change": "signal:HUP"}, "--on-change goes with --watch"),
        (Settings(), {"watch": 5, "on_change": "reload"}, "--on-change 'reload' is not known"),
        (Settings(), {"watch": 5, "on_change": "signal:NOPE"}, "--on-change signal:NAME is not a known signal"),
        (Settings(), {"accept_stale_env": True}, "--accept-stale-env goes with --on-change signal:NAME"),
        (Settings(endpoint_url="http://local_stack:4566"), {}, "--endpoint-url is not an http:// or https:// URL"),
        (Settings(endpoint_url="http://a\nb"), {}, "--endpoint-url is not an http:// or https:// URL"),
        (Settings(service_endpoints=(("ssm", "x"),)), {}, "AWS_ENDPOINT_URL_SSM is not an http:// or https:// URL"),
        (Settings(prefix="A-"), {}, "--prefix must start a variable name"),
        (Settings(resolve_env=("*",)), {}, "--resolve-env takes variable names and NAME_* prefixes, and '*' is"),
        (
            Settings(timeout=-1, origins={"timeout": "timeout in 'x.toml'"}),
            {},
            "timeout in 'x.toml' must be a number of seconds from 0.1 to 86400, not -1",
        ),
    ],
)  # fmt: skip
def test_check_options_rejects(settings: Settings, run: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_options(settings, **run)
    assert info.value.message.startswith(message)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("settings", "run"),
    [
        (Settings(endpoint_url="http://[::1]:4566", region="eu-west-1", prefix="_", timeout=0.1, max_attempts=1), {}),
        (Settings(endpoint_url="https://secretsmanager.eu-west-1.amazonaws.com."), {"watch": 1, "kill_timeout": 0}),
        (Settings(), {"watch": 86400, "restart_on_exit": True, "stop_signal": "term"}),
        (Settings(), {"stop_signal": "9"}),
    ],
)
def test_check_options_accepts(settings: Settings, run: dict[str, Any]) -> None:
    check_options(settings, **run)


@pytest.mark.parametrize(("name", "number"), [("TERM", 15), ("sigint", 2), ("SIGHUP", 1), ("15", 15)])
def test_stop_signal_names_and_numbers(name: str, number: int) -> None:
    assert stop_signal_number(name) == number


@pytest.mark.parametrize(
    ("cli", "environ", "config", "message"),
    [
        ({"resolve_env": ["*"]}, {}, {}, "the command line: resolve-env takes variable names and NAME_* prefixes"),
        ({}, {"ENVINJECT_RESOLVE_ENV": "DB_* *"}, {}, "ENVINJECT_RESOLVE_ENV takes variable names"),
        ({}, {}, {"resolve-env": ["A", "B-C"]}, "envinject.toml: resolve-env takes variable names"),
        ({}, {}, {"resolve-env": 1}, "envinject.toml: resolve-env must be true, false, or a list of variable names"),
        ({"resolve_env": ["A"], "no_resolve_env": True}, {}, {}, "--resolve-env and --no-resolve-env disagree"),
    ],
)
def test_names_to_resolve_are_checked_where_they_are_read(
    cli: dict[str, Any], environ: dict[str, str], config: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        loaded = ConfigFile(Path("envinject.toml"), validate(config, "envinject.toml")) if config else None
        resolve_settings(cli, environ, loaded)
    assert str(info.value).startswith(message), str(info.value)
    assert "a lone * is not taken" in str(info.value) or "disagree" in message or "must be" in message


def test_no_resolve_env_on_the_command_line_is_false() -> None:
    assert resolve_settings({"no_resolve_env": True}, {"ENVINJECT_RESOLVE_ENV": "A"}).resolve_env is False
    assert resolve_settings({"no_resolve_env": None}, {}).resolve_env is True
