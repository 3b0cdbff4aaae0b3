"""The record classes behave as the dataclasses they replace, for everything envinject asks of them."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envinject.records import FrozenError, as_dict, field, fields, record, replace


@record(frozen=True)
class Point:
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)
    secret: str = field(default="", repr=False)
    note: str = field(default="", compare=False)


@record(frozen=True)
class Pair:
    x: int
    y: int = 0
    note: str = field(default="", compare=False)


@record
class Box:
    items: list[Point] = field(default_factory=list)
    label: str = "box"


@dataclasses.dataclass(frozen=True)
class Twin:
    x: int
    y: int = 0
    tags: list[str] = dataclasses.field(default_factory=list)
    secret: str = dataclasses.field(default="", repr=False)
    note: str = dataclasses.field(default="", compare=False)


def test_fields_in_order_with_defaults_and_factories() -> None:
    assert [f.name for f in fields(Point)] == ["x", "y", "tags", "secret", "note"]
    a, b = Point(1), Point(2, 3)
    assert (a.x, a.y, a.tags, b.y) == (1, 0, [], 3)
    assert a.tags is not b.tags  # a fresh list each
    assert Point.y == 0  # the default is the class attribute, as with dataclasses


def test_arguments_are_checked_as_a_dataclass_checks_them() -> None:
    for bad in (lambda: Point(), lambda: Point(1, x=2), lambda: Point(1, z=2), lambda: Point(1, 2, [], "", "", 6)):
        with pytest.raises(TypeError):
            bad()
    with pytest.raises(TypeError, match="without a default follows"):

        @record
        class Wrong:
            a: int = 0
            b: int


def test_frozen_records_cannot_change_and_hash_by_their_compared_fields() -> None:
    p = Pair(1, 2, note="a")
    with pytest.raises(FrozenError):
        p.x = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del p.y  # type: ignore[misc]
    assert p == Pair(1, 2, note="b") and hash(p) == hash(Pair(1, 2, note="b"))
    assert p != Pair(1, 3) and p != (1, 2)
    assert {Pair(1): "one"}[Pair(1)] == "one"


def test_a_record_that_may_change_is_not_hashable() -> None:
    b = Box()
    b.label = "other"
    assert b.label == "other" and b == Box(label="other")
    with pytest.raises(TypeError):
        hash(b)


def test_repr_leaves_out_what_it_must_not_show() -> None:
    text = repr(Point(1, secret="sk-canary"))
    assert "sk-canary" not in text and text.startswith("Point(x=1, y=0, tags=[]")


def test_replace_and_as_dict() -> None:
    p = Point(1, tags=["a"])
    q = replace(p, y=5)
    assert (q.x, q.y, q.tags, p.y) == (1, 5, ["a"], 0)
    with pytest.raises(TypeError):
        replace(p, z=1)
    assert as_dict(Box([p])) == {"items": [{"x": 1, "y": 0, "tags": ["a"], "secret": "", "note": ""}], "label": "box"}


values = st.tuples(st.integers(), st.integers(), st.lists(st.text(max_size=3), max_size=3), st.text(), st.text())


@given(values, values)
def test_equal_repr_hash_and_replace_as_the_dataclass_does(a: tuple, b: tuple) -> None:  # type: ignore[type-arg]
    ours, theirs = (Point(*a), Point(*b)), (Twin(*a), Twin(*b))
    assert (ours[0] == ours[1]) == (theirs[0] == theirs[1])
    assert repr(ours[0]).replace("Point", "Twin") == repr(theirs[0])
    assert as_dict(ours[0]) == dataclasses.asdict(theirs[0])
    assert as_dict(replace(ours[0], y=b[1])) == dataclasses.asdict(dataclasses.replace(theirs[0], y=b[1]))
