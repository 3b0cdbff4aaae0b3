from pathlib import Path

import pytest

from envinject.config import (
    ConfigFile,
    Settings,
    find_config,
    load_config,
    resolve_settings,
    split_secrets,
    validate,
)
from envinject.errors import ConfigError


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
    found = find_config(deep)
    assert found is not None
    assert found.values["secrets"] == ("from-pyproject",)
    (tmp_path / "a" / "pyproject.toml").write_text("[project]\nname = 'x'\n")  # no table: keep looking
    assert find_config(deep).path == tmp_path / "pyproject.toml"  # type: ignore[union-attr]
    (tmp_path / "a" / "envinject.toml").write_text('secrets = "near"\nenv-files = ["x.env"]\n')
    near = find_config(deep)
    assert near is not None
    assert near.path == tmp_path / "a" / "envinject.toml"
    assert near.values == {"secrets": ("near",), "env_files": ("x.env",)}


def test_nothing_found(tmp_path: Path) -> None:
    assert find_config(tmp_path) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("secret = ['x']\n", ["unknown setting 'secret'", "secrets"]),
        ("secrets = [1]\n", ["secrets must be a list of strings"]),
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
        load_config(path)
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
