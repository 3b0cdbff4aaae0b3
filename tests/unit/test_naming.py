import pytest

from envinject.rules.naming import PROTECTED, env_name, is_protected, is_valid_name


@pytest.mark.parametrize(
    ("path", "prefix", "case", "expected"),
    [
        (["openai"], "", "upper", "OPENAI"),
        (["api-key"], "", "upper", "API_KEY"),
        (["db", "host"], "", "upper", "DB_HOST"),
        (["db.host"], "", "upper", "DB_HOST"),
        (["Mixed", "Case"], "", "keep", "Mixed_Case"),
        (["Mixed", "Case"], "", "lower", "mixed_case"),
        (["openai"], "APP_", "upper", "APP_OPENAI"),
        (["openai"], "app_", "upper", "app_OPENAI"),
        # The prefix is written as wanted: no case is applied to it.
        (["OpenAI"], "App_", "lower", "App_openai"),
        (["clé"], "", "upper", "CL_"),
        (["a b/c"], "", "upper", "A_B_C"),
        (["1password"], "", "upper", "1PASSWORD"),
        ([""], "", "upper", ""),
    ],
)
def test_naming_table(path: list[str], prefix: str, case: str, expected: str) -> None:
    assert env_name(path, prefix=prefix, case=case) == expected


@pytest.mark.parametrize(
    ("name", "valid"),
    [("OPENAI", True), ("_X1", True), ("a", True), ("1PASSWORD", False), ("", False), ("A-B", False), ("É", False)],
)
def test_valid_names(name: str, valid: bool) -> None:
    assert is_valid_name(name) is valid


@pytest.mark.parametrize(
    "name",
    [
        # each of these runs a command or loads code, and each was settable from a secret without --allow
        "GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_12", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_GLOBAL",
        "GIT_EXTERNAL_DIFF", "LESSOPEN", "LESSCLOSE", "MANPAGER", "BROWSER", "GIT_PAGER", "AWS_PAGER", "GIT_EDITOR",
        "SUDO_ASKPASS", "JAVA_OPTS", "MAVEN_OPTS", "ELIXIR_ERL_OPTIONS", "PERLIO_DEBUG", "ZDOTDIR", "TMPDIR",
        "LUA_INIT_5_4", "DOTNET_STARTUP_HOOKS",
        # the former list, still protected
        "PATH", "LD_PRELOAD", "LD_AUDIT", "DYLD_INSERT_LIBRARIES", "PYTHONPATH", "PYTHONSTARTUP", "BASH_ENV",
        "BASH_FUNC_x%%", "IFS", "NODE_OPTIONS", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS",
        "GIT_SSH_COMMAND", "EDITOR", "PAGER",
    ],
)  # fmt: skip
def test_protected(name: str) -> None:
    assert is_protected(name)


@pytest.mark.parametrize(
    "name",
    ["OPENAI", "DATABASE_URL", "NODE_ENV", "GIT_TOKEN", "GIT_AUTHOR_NAME", "GITHUB_TOKEN", "PATHS", "MYPATH",
     "PAGER_DUTY_KEY", "EDITORIAL", "LD", "PYTHO", "APP_PATH", "OPTIONS", "OPTS"],
)  # fmt: skip
def test_not_protected(name: str) -> None:
    assert not is_protected(name)


def test_the_protected_list_has_each_entry_once_and_only_shell_names() -> None:
    assert len(set(PROTECTED)) == len(PROTECTED)
    assert all(is_valid_name(p.replace("*", "X")) for p in PROTECTED)
