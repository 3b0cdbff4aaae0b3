"""Env-file templates: literal values pass through, references are replaced by secret values.

Parsing uses python-dotenv's own parser, without ``${VAR}`` interpolation, so a value is read exactly as
python-dotenv reads it with ``interpolate=False``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError, EnvinjectError
from .naming import is_valid_name
from .refs import Ref, looks_like_ref, parse_ref


@dataclass(frozen=True)
class Literal:
    name: str
    value: str = field(repr=False)
    origin: str


Entry = Literal | Ref


def parse_envfile(text: str, origin: str, *, refs: bool = True) -> Iterator[tuple[str, Entry]]:
    """Yield (``FILE:LINE``, entry) for each assignment, in file order. Pure.

    A value that starts with ``sm://`` or ``ssm://``, or is a secret's or parameter's ARN, is a reference put
    into exactly that name; any other value is a literal. With ``refs=False`` every value is a literal (``push``).
    Errors name the file and line, never the line's content.
    """
    from dotenv.parser import parse_stream  # here, not at start: ~15 ms that a run without env files skips

    for binding in parse_stream(io.StringIO(text)):
        where = f"{origin}:{binding.original.line}"
        if binding.error:
            raise ConfigError(f"{where}: cannot parse this line", hint="write NAME=value, quoting as in a .env file")
        key, value = binding.key, binding.value
        if key is None:  # a comment or blank line
            continue
        if not is_valid_name(key):
            raise ConfigError(f"{where}: {key!r} is not a valid variable name", hint="use letters, digits and _")
        if value is None:
            raise ConfigError(f"{where}: {key} has no value", hint=f"write {key}= for an empty value")
        if refs and looks_like_ref(value):
            try:
                yield where, parse_ref(f"{key}={value}")
            except EnvinjectError as e:
                raise ConfigError(f"{where}: {e.message}", hint=_in_envfile(key, e.hint)) from None
        else:
            yield where, Literal(key, value, where)


def _in_envfile(key: str, hint: str | None) -> str | None:
    """A reference's hint, unless it says how to write one on the command line (``VAR=``, ``--secret``, a path),
    which an env file line cannot follow."""
    if hint and re.search(r"VAR=|--secret|ssm:///PATH/(?!NAME)", hint):
        return f"in an env file write {key}=sm://NAME, {key}=sm://NAME#KEY or {key}=ssm:///PATH/NAME"
    return hint


def read_envfile(
    path: str | Path, *, refs: bool = True, missing_hint: str = "check the --env-file path"
) -> list[tuple[str, Entry]]:
    """Read and parse one env file; a missing or unreadable file is a ConfigError naming it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
        raise ConfigError(f"env file {str(path)!r}: {reason}", hint=missing_hint) from None
    return list(parse_envfile(text, str(path), refs=refs))
