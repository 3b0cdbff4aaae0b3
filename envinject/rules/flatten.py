"""Turn a secret's JSON into (key path, string value) pairs. Pure: no I/O.

Rules, also in the README:
- string: as is;  number: its JSON text exactly as stored (``5432``, ``1.50``, ``1e3``);
- true / false: ``true`` / ``false``;  null: the empty string;
- object: one variable per key, nested keys joined by ``_``; an empty object: ``{}``;
- array: its compact JSON text (``["a","b"]``), so nothing is lost.
A key repeated inside one object is an error, as the last one would otherwise win silently, and so is JSON
nested deeper than MAX_DEPTH objects and arrays.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

#: The deepest nesting of objects and arrays a secret may have. Python's parser gives up near 1,000 levels, and
#: the naming and writing here recurse; no set of variables needs more than a few levels.
MAX_DEPTH = 100


class JSONNumber(str):
    """A number kept as the exact text it was stored with."""


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class TooDeep(ValueError):
    """JSON nested deeper than MAX_DEPTH."""


class KeyMissing(LookupError):
    def __init__(self, path: tuple[str, ...]) -> None:
        super().__init__(path)
        self.path = path


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKey(key)
        out[key] = value
    return out


def loads(text: str) -> Any:
    """Parse JSON keeping numbers as their text. Raises json.JSONDecodeError, DuplicateKey or TooDeep."""
    try:
        value = json.loads(
            text, object_pairs_hook=_object, parse_int=JSONNumber, parse_float=JSONNumber, parse_constant=_no_constant
        )
    except RecursionError:
        raise TooDeep from None
    if _depth(value) > MAX_DEPTH:
        raise TooDeep
    return value


def _depth(value: Any) -> int:
    """How deep objects and arrays nest in ``value`` (a scalar: 0), without recursing."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            stack.extend((inner, depth + 1) for inner in (item.values() if isinstance(item, dict) else item))
    return deepest


def _no_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not valid JSON", name, 0)


def to_json(value: Any) -> str:
    """Compact JSON text of a parsed value, numbers written back exactly."""
    if isinstance(value, JSONNumber):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def scalar_text(value: Any) -> str:
    """The string a single JSON value becomes in the environment."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):  # includes JSONNumber
        return str(value)
    return to_json(value)


def flatten(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """Yield (key path, text) for every leaf; objects recurse, everything else is a leaf."""
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            yield from flatten(inner, (*path, key))
    else:
        yield path, scalar_text(value)


def select(value: Any, path: tuple[str, ...]) -> Any:
    """The value at a key path, raising KeyMissing with the part of the path that was found."""
    for depth, key in enumerate(path):
        if not isinstance(value, dict) or key not in value:
            raise KeyMissing(path[: depth + 1])
        value = value[key]
    return value
