"""Env-file templates: literal values pass through, references are replaced by secret values.

Parsing uses python-dotenv's own parser, without ``${VAR}`` interpolation, so a value is read exactly as
python-dotenv reads it with ``interpolate=False``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

from ..errors import ConfigError, EnvinjectError, quote
from ..records import field, record
from .naming import is_valid_name
from .refs import FILE_PREFIX, SCHEME, SSM_SCHEME, Ref, is_prefix_target, looks_like_ref, parse_ref

#: ``PREFIX*``: a per-reference prefix, the one key that is no variable name and may be shown (it holds no value).
_PREFIX_TARGET = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\*")
# python-dotenv's `=` and the blanks after it (dotenv/parser.py `_equal_sign`); a quote next starts a quoted value.
_QUOTED = re.compile(r"=[^\S\r\n]*['\"]")


def _quoted(original: str) -> bool:
    """Whether a binding's value, as written in ``original`` (its ``KEY=value`` text), is quoted. The key is a
    valid variable name here, so the first ``=`` is the one after it."""
    return _QUOTED.match(original, original.index("=")) is not None


@record(frozen=True)
class Literal:
    name: str
    value: str = field(repr=False)
    origin: str


Entry = Literal | Ref


def parse_envfile(text: str, origin: str, *, refs: bool = True) -> Iterator[tuple[str, Entry]]:
    """Yield (``FILE:LINE``, entry) for each assignment, in file order. Pure.

    An unquoted value that starts with ``sm://`` or ``ssm://`` is a reference put into exactly that name (or,
    under ``P_*=``, whose keys are named with that prefix); any other value is a literal, and a quoted value
    always is (``export`` quotes every value, so its output reads back as it was written). An unquoted bare ARN
    of a secret or parameter is an error: it was a reference once, and reading it as text instead would change
    an old file's meaning without a word. With ``refs=False`` every value is a literal (``push``). Errors name
    the file and line and never show a literal value, nor the text of a line that is no ``NAME=`` (its length
    instead); a bad reference is quoted, cut short.
    """
    from dotenv.parser import parse_stream  # here, not at start: ~15 ms that a run without env files skips

    for binding in parse_stream(io.StringIO(text)):
        where = f"{origin}:{binding.original.line}"
        if binding.error:
            raise ConfigError(f"{where}: cannot parse this line", hint="write NAME=value, quoting as in a .env file")
        key, value = binding.key, binding.value
        if key is None:  # a comment or blank line
            continue
        # P_*=sm://NAME: the keys of a whole secret, with a prefix (a literal has no keys to prefix).
        prefixed = (
            refs and is_prefix_target(key) and value is not None and looks_like_ref(value)
            and not _quoted(binding.original.string)
        )  # fmt: skip
        # A line that is no NAME=value is often a value that lost its quotes (the body of a PEM key, a token
        # pasted alone): it is named by its place and length, never by its text.
        length = len(binding.original.string.rstrip("\r\n"))
        if value is None:
            raise ConfigError(
                f"{where}: a line of {length} characters with no NAME= (its text is not shown)",
                hint="write NAME=value, and quote a value that spans lines",
            )
        if not is_valid_name(key) and not prefixed and _PREFIX_TARGET.fullmatch(key):
            raise ConfigError(
                f"{where}: {quote(key)} is not a valid variable name",
                hint=f"a prefix takes a reference: {key}=sm://NAME",
            )
        if not is_valid_name(key) and not prefixed:
            raise ConfigError(
                f"{where}: the text before '=' on a line of {length} characters is not a valid variable name (its "
                "text is not shown)",
                hint="use letters, digits and _, and quote a value that spans lines",
            )
        if "\0" in value:
            raise ConfigError(f"{where}: the value of {key} contains a NUL byte, which no environment can hold",
                              hint="remove the NUL from it")  # fmt: skip
        if refs and looks_like_ref(value) and not _quoted(binding.original.string):
            bare = value.removeprefix(FILE_PREFIX)
            if not bare.startswith((SCHEME, SSM_SCHEME)):
                scheme = SSM_SCHEME if bare.split(":")[2] == "ssm" else SCHEME
                raise ConfigError(
                    f"{where}: {key} is a bare ARN; in an env file a reference starts with {scheme}",
                    hint=f'write {key}={scheme}arn:... to fetch it, or {key}="arn:..." to keep the ARN as text',
                )
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
