import pytest

from envinject.naming import env_name, is_valid_name


@pytest.mark.parametrize(
    ("path", "prefix", "keep_case", "expected"),
    [
        (["openai"], "", False, "OPENAI"),
        (["api-key"], "", False, "API_KEY"),
        (["db", "host"], "", False, "DB_HOST"),
        (["db.host"], "", False, "DB_HOST"),
        (["Mixed", "Case"], "", True, "Mixed_Case"),
        (["openai"], "APP_", False, "APP_OPENAI"),
        (["openai"], "app_", False, "app_OPENAI"),
        (["clé"], "", False, "CL_"),
        (["a b/c"], "", False, "A_B_C"),
        (["1password"], "", False, "1PASSWORD"),
        ([""], "", False, ""),
    ],
)
def test_naming_table(path: list[str], prefix: str, keep_case: bool, expected: str) -> None:
    assert env_name(path, prefix=prefix, keep_case=keep_case) == expected


@pytest.mark.parametrize(
    ("name", "valid"),
    [("OPENAI", True), ("_X1", True), ("a", True), ("1PASSWORD", False), ("", False), ("A-B", False), ("É", False)],
)
def test_valid_names(name: str, valid: bool) -> None:
    assert is_valid_name(name) is valid
