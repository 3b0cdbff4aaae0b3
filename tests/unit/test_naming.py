import pytest

from envinject.naming import env_name, is_valid_name


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
