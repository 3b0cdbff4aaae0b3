"""Templates for rendered files: ``{{ sm://prod/db#password }}``, ``{{ ssm:///app/url }}``, ``{{ VAR }}``. Pure.

A tag is ``{{ EXPR }}`` or ``{{ EXPR | FORMAT }}``: EXPR is a reference with its scheme (the same grammar as
everywhere, one value: the whole SecretString or one key), the name of a variable of the run, or ``"{{"`` for
a literal ``{{``. Every substitution is escaped for FORMAT, else for the file's format, so a password with
``"``, ``:`` or ``%`` cannot break the file:

- ``raw``: as it is;
- ``json``: a JSON string, quotes included;
- ``yaml``: a YAML double-quoted scalar, quotes included;
- ``shell``: one single-quoted POSIX shell word;
- ``url``: percent-encoded (every byte but letters, digits and ``-._~``), for one part of a URL;
- ``dotenv``: a double-quoted python-dotenv value.

Any other ``{{`` is an error, so a mistyped tag never reaches the file.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import quote as url_quote

from ..errors import ConfigError, EnvinjectError
from .formats import dotenv, shell
from .refs import SCHEME, SSM_SCHEME, Ref, parse_ref

_TAG = re.compile(r"\{\{(.*?)\}\}", re.S)
_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@functools.cache
def _yaml_unsafe() -> re.Pattern[str]:
    """What PyYAML (and YAML 1.1) will not take in a stream: written as escapes inside the double quotes.
    Compiled on first use: its classes span all of Unicode, a few ms of every start that renders no YAML."""
    return re.compile(
        "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"  # not printable
        '|[\\\\"\x85\u2028\u2029\ufeff\x09\x0a\x0d]'  # quotes, escapes and line breaks
    )


_YAML_NAMED = {"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x85": "\\N", "\u2028": "\\L",
               "\u2029": "\\P"}  # fmt: skip


def _yaml(value: str) -> str:
    def escape(m: re.Match[str]) -> str:
        ch = m.group()
        if ch in _YAML_NAMED:
            return _YAML_NAMED[ch]
        code = ord(ch)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"

    return '"' + _yaml_unsafe().sub(escape, value) + '"'


ESCAPERS: dict[str, Callable[[str], str]] = {
    "raw": lambda v: v,
    "json": lambda v: json.dumps(v, ensure_ascii=False),
    "yaml": _yaml,
    "shell": shell.quote,
    "url": lambda v: url_quote(v, safe=""),
    "dotenv": dotenv.quote,
}
#: The format a template's file name implies, when no tag or option names one.
_BY_SUFFIX = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".sh": "shell", ".env": "dotenv"}


def format_for(path: str) -> str:
    """The escaping a file's name implies: ``.json``, ``.yaml``/``.yml``, ``.sh``, ``.env``; else ``raw``."""
    name = path.lower()
    return next((fmt for suffix, fmt in _BY_SUFFIX.items() if name.endswith(suffix)), "raw")


@dataclass(frozen=True)
class Tag:
    """One ``{{ ... }}``: a reference, a variable, or a literal, and the format it is escaped for."""

    where: str
    fmt: str | None
    ref: Ref | None = None
    var: str | None = None
    literal: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Template:
    origin: str
    parts: tuple[str | Tag, ...]

    @property
    def tags(self) -> list[Tag]:
        return [p for p in self.parts if isinstance(p, Tag)]

    @property
    def refs(self) -> list[Ref]:
        return [t.ref for t in self.tags if t.ref is not None]

    @property
    def variables(self) -> list[str]:
        return [p.var for p in self.parts if isinstance(p, Tag) and p.var is not None]


def _where(origin: str, text: str, offset: int) -> str:
    return f"{origin}:{text.count(chr(10), 0, offset) + 1}"


def parse_template(text: str, origin: str) -> Template:
    """Split ``text`` into literal text and tags. Errors name ``origin`` and the line, never the text."""
    parts: list[str | Tag] = []
    pos = 0
    for m in _TAG.finditer(text):
        parts.append(text[pos : m.start()])
        where = _where(origin, text, m.start())
        expr, bar, fmt = m.group(1).partition("|")
        expr, fmt = expr.strip(), fmt.strip()
        if bar and fmt not in ESCAPERS:
            raise ConfigError(f"{where}: unknown format {fmt[:40]!r}", hint=f"use one of {', '.join(ESCAPERS)}")
        tag_fmt = fmt if bar else None
        if expr == '"{{"':
            parts.append(Tag(where, tag_fmt, literal="{{"))
        elif expr.startswith((SCHEME, SSM_SCHEME)):
            try:
                ref = parse_ref(expr)
            except EnvinjectError as e:
                raise ConfigError(f"{where}: {e.message}", hint=e.hint) from None
            if ref.var is not None or ref.locator.is_path:
                raise ConfigError(f"{where}: a tag takes one value", hint="write {{ sm://NAME#KEY }}")
            # Named like an assignment, so the one naming pipeline gives exactly one value for it.
            parts.append(Tag(where, tag_fmt, ref=replace(ref, var="_")))
        elif _VAR.fullmatch(expr):
            parts.append(Tag(where, tag_fmt, var=expr))
        else:
            raise ConfigError(
                f"{where}: a tag holds sm://..., ssm://... or a variable name",
                hint='write {{ sm://NAME#KEY }}, {{ VAR }}, or {{ "{{" }} for a literal {{',
            )
        pos = m.end()
    rest = text[pos:]
    if "{{" in rest:
        where = _where(origin, text, pos + rest.index("{{"))
        raise ConfigError(f"{where}: '{{{{' opens no tag", hint="close it with }}")
    parts.append(rest)
    return Template(origin, tuple(p for p in parts if p != ""))


def render_template(template: Template, values: Mapping[Ref, str], env: Mapping[str, str], default_fmt: str) -> str:
    """The text with every tag replaced by its escaped value: references from ``values``, variables from ``env``.
    A variable that is not set is an error naming it."""
    out: list[str] = []
    for part in template.parts:
        if isinstance(part, str):
            out.append(part)
            continue
        if part.literal is not None:
            out.append(part.literal)
            continue
        if part.ref is not None:
            value = values[part.ref]
        else:
            assert part.var is not None
            if part.var not in env:
                raise ConfigError(f"{part.where}: {part.var} is not set", hint="set it, or add a secret that sets it")
            value = env[part.var]
        out.append(ESCAPERS[part.fmt or default_fmt](value))
    return "".join(out)
