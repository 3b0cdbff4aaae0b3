"""Record classes, declared as dataclasses are: fields by annotation in order, defaults by value or by
:func:`field`, ``frozen`` for values that never change (and hash), :func:`replace` and :func:`fields`.

Why not :mod:`dataclasses`: a start pays for it twice. Importing it loads ``inspect`` (and with it ``ast``, ``dis``
and ``tokenize``), and each class it builds compiles generated source with ``exec``. For the thirty classes a run
defines that came to about 150 million instructions, a sixth of a whole run through the AWS API and more than
half of one through the local agent. These classes are built by plain functions instead; type checkers read them
as dataclasses through ``dataclass_transform`` (PEP 681). Only what envinject uses is here: no ordering, no
``__post_init__``, no inheritance of fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform  # typing has it from 3.11; checking only, never run
else:

    def dataclass_transform(**_: Any) -> Callable[[Any], Any]:
        return lambda f: f


T = TypeVar("T")
_MISSING: Any = object()


class Field:
    """One field of a record: its name, its default (a value or a factory), and whether ``repr`` shows it and
    ``==`` compares it."""

    __slots__ = ("compare", "default", "default_factory", "name", "repr")

    def __init__(
        self, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None, repr: bool = True,
        compare: bool = True,
    ) -> None:  # fmt: skip
        self.name = ""
        self.default, self.default_factory, self.repr, self.compare = default, default_factory, repr, compare


def field(
    *, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None, repr: bool = True,
    compare: bool = True,
) -> Any:  # fmt: skip
    """A field with a default factory (``field(default_factory=list)``), or one ``repr`` must not show (a value)."""
    return Field(default, default_factory, repr, compare)


class FrozenError(AttributeError):
    """An attempt to change a frozen record."""


def _build(cls: type[T], frozen: bool) -> type[T]:
    own = cls.__dict__.get("__annotations__", {})  # noqa: RUF063 - inspect is what this module avoids
    found: list[Field] = []
    for name in own:
        given = cls.__dict__.get(name, _MISSING)
        f = given if isinstance(given, Field) else Field(default=given)
        f.name = name
        if not _has_default(f) and found and _has_default(found[-1]):
            raise TypeError(f"{cls.__name__}: field {name!r} without a default follows one with a default")
        found.append(f)
        if isinstance(given, Field):  # the class attribute is the default, as with dataclasses
            if f.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
    every = tuple(found)
    names = tuple(f.name for f in every)
    compared = tuple(f.name for f in every if f.compare)
    shown = tuple(f.name for f in every if f.repr)
    by_name = {f.name: f for f in every}

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(every):
            raise TypeError(f"{cls.__name__}() takes {len(every)} positional arguments but {len(args)} were given")
        values = dict(zip(names, args, strict=False))  # the first len(args) fields
        for key, value in kwargs.items():
            if key not in by_name:
                raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {key!r}")
            if key in values:
                raise TypeError(f"{cls.__name__}() got multiple values for argument {key!r}")
            values[key] = value
        for f in every:
            if f.name in values:
                value = values[f.name]
            elif f.default_factory is not None:
                value = f.default_factory()
            elif f.default is not _MISSING:
                value = f.default
            else:
                raise TypeError(f"{cls.__name__}() missing required argument: {f.name!r}")
            object.__setattr__(self, f.name, value)

    def __repr__(self: Any) -> str:
        return f"{cls.__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in shown)})"

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in compared)

    methods: dict[str, Any] = {"__init__": __init__, "__repr__": __repr__, "__eq__": __eq__}
    if frozen:

        def __hash__(self: Any) -> int:
            return hash(tuple(getattr(self, n) for n in compared))

        def __setattr__(self: Any, name: str, value: Any) -> None:
            raise FrozenError(f"cannot assign to field {name!r} of a frozen {cls.__name__}")

        def __delattr__(self: Any, name: str) -> None:
            raise FrozenError(f"cannot delete field {name!r} of a frozen {cls.__name__}")

        methods.update(__hash__=__hash__, __setattr__=__setattr__, __delattr__=__delattr__)
    else:
        methods["__hash__"] = None  # as a dataclass that compares and may change: unhashable
    for name, method in methods.items():
        if method is not None:
            method.__qualname__ = f"{cls.__qualname__}.{name}"
        if cls.__dict__.get(name) is None:  # a method the class writes itself stays
            setattr(cls, name, method)
    cls.__record_fields__ = every  # type: ignore[attr-defined]
    return cls


def _has_default(f: Field) -> bool:
    return f.default is not _MISSING or f.default_factory is not None


@dataclass_transform(field_specifiers=(field, Field))
def record(cls: type[T] | None = None, /, *, frozen: bool = False) -> Any:
    """Make ``cls`` a record: ``@record`` or ``@record(frozen=True)``."""
    if cls is None:
        return lambda c: _build(c, frozen)
    return _build(cls, frozen)


def fields(obj: Any) -> tuple[Field, ...]:
    """A record's fields, in order (of a record class or an instance)."""
    return tuple(obj.__record_fields__)


def replace(obj: T, **changes: Any) -> T:
    """A copy of a record with ``changes``."""
    values = {f.name: getattr(obj, f.name) for f in fields(obj)}
    unknown = set(changes) - set(values)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field {sorted(unknown)[0]!r}")
    return type(obj)(**{**values, **changes})


def as_dict(obj: Any) -> Any:
    """A record as a dict, and every record, list, tuple and dict in it likewise (for JSON output)."""
    if hasattr(type(obj), "__record_fields__"):
        return {f.name: as_dict(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, list | tuple):
        return type(obj)(as_dict(x) for x in obj)
    if isinstance(obj, dict):
        return {k: as_dict(v) for k, v in obj.items()}
    return obj
