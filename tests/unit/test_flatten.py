import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envinject.rules import flatten


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ('{"a": "x"}', [(("a",), "x")]),
        ('{"n": 5432}', [(("n",), "5432")]),
        ('{"n": 1.50}', [(("n",), "1.50")]),
        ('{"n": -1e3}', [(("n",), "-1e3")]),
        ('{"t": true, "f": false}', [(("t",), "true"), (("f",), "false")]),
        ('{"z": null}', [(("z",), "")]),
        ('{"e": {}}', [(("e",), "{}")]),
        ('{"l": [1, "b", null, 2.50, {"k": true}]}', [(("l",), '[1,"b",null,2.50,{"k":true}]')]),
        ('{"u": "é\\u00e9🙂"}', [(("u",), "éé🙂")]),
        ('{"db": {"host": "h", "port": 1}}', [(("db", "host"), "h"), (("db", "port"), "1")]),
    ],
)
def test_every_json_type(document: str, expected: list[tuple[tuple[str, ...], str]]) -> None:
    assert list(flatten.flatten(flatten.loads(document))) == expected


def test_duplicate_keys_are_rejected() -> None:
    with pytest.raises(flatten.DuplicateKey) as info:
        flatten.loads('{"a": 1, "b": {"c": 1, "c": 2}}')
    assert info.value.key == "c"


def test_nan_is_not_json() -> None:
    with pytest.raises(json.JSONDecodeError):
        flatten.loads('{"a": NaN}')


def test_select_reports_how_far_it_got() -> None:
    doc = flatten.loads('{"db": {"host": "h"}}')
    assert flatten.select(doc, ("db", "host")) == "h"
    with pytest.raises(flatten.KeyMissing) as info:
        flatten.select(doc, ("db", "port"))
    assert info.value.path == ("db", "port")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_to_json_is_lossless(value: object) -> None:
    text = json.dumps(value)
    assert json.loads(flatten.to_json(flatten.loads(text))) == json.loads(text)


@given(st.dictionaries(st.text(min_size=1, max_size=5), json_values, max_size=6))
def test_no_leaf_is_dropped(document: dict[str, object]) -> None:
    pairs = list(flatten.flatten(flatten.loads(json.dumps(document))))
    paths = [p for p, _ in pairs]
    assert len(paths) == len(set(paths))

    def leaves(value: object) -> int:
        if isinstance(value, dict) and value:
            return sum(leaves(v) for v in value.values())
        return 1

    assert len(pairs) == (leaves(document) if document else 1)


@pytest.mark.parametrize("depth", [flatten.MAX_DEPTH + 1, 990, 5_000, 200_000])
@pytest.mark.parametrize(("open_", "close"), [('{"a":', "}"), ("[", "]")])
def test_json_nested_too_deep_is_one_error(depth: int, open_: str, close: str) -> None:
    with pytest.raises(flatten.TooDeep):
        flatten.loads(open_ * depth + "1" + close * depth)


def test_json_nested_as_deep_as_allowed_is_flattened_and_written_back() -> None:
    depth = flatten.MAX_DEPTH
    obj = flatten.loads('{"a":' * (depth - 1) + "[" * 1 + "1" + "]" + "}" * (depth - 1))
    [(path, text)] = list(flatten.flatten(obj))
    assert path == ("a",) * (depth - 1) and text == "[1]"
    array = "[" * depth + "]" * depth
    assert flatten.to_json(flatten.loads(array)) == array
