"""Templates for rendered files: ``{{ sm://prod/db#password }}``, ``{{ ssm:///app/url }}``, ``{{ VAR }}``. Pure.

A tag is ``{{ EXPR }}`` or ``{{ EXPR | FORMAT }}``: EXPR is a reference with its scheme (the same grammar as
everywhere, one value: the whole SecretString or one key), the name of a variable of the run, or ``"{{"`` for
a literal ``{{``.

The file's format (``--format``, else its name: :func:`format_for`) says who reads the file; every value is
written for that reader where its tag stands (:mod:`envinject.rules.contexts`): inside a shell's double
quotes, a YAML plain scalar, a TOML literal string, each has its own escaping, and a place where none exists (a
comment, a here-document) is an error naming the line. A tag's own ``| FORMAT`` encodes the value first (``url``
for a part of a URL, ``json`` for a JSON text), and that text is then written for the file's reader in the same
way; ``| raw`` alone writes a value as it is. A file whose name gives no format needs ``--format`` or a format
in each tag: ``raw`` is never chosen for the user.

The escapers, each alone (a tag's ``| FORMAT``, or a whole value in a file of that format):

- ``raw``: as it is;
- ``json``: a JSON string, quotes included;
- ``yaml``: a YAML double-quoted scalar, quotes included;
- ``shell``: one single-quoted POSIX shell word;
- ``url``: percent-encoded (every byte but letters, digits and ``-._~``), for one part of a URL;
- ``dotenv``: a value python-dotenv and a shell read alike (double or single quotes), or refused;
- ``toml``: a TOML basic string, quotes included;
- ``ini``: the value as it is, when configparser and npm's ini read it so, else refused;
- ``npmrc``: a JSON string whose ``${...}`` npm leaves alone;
- ``properties``: a Java properties value, escaped as ``Properties.store`` does.

Any other ``{{`` is an error, so a mistyped tag never reaches the file.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from urllib.parse import quote as url_quote

from ..errors import ConfigError, EnvinjectError, SecretFormatError
from ..records import field, record, replace
from .escaping import Unwritable
from .formats import dotenv
from .refs import SCHEME, SSM_SCHEME, Ref, parse_ref

_TAG = re.compile(r"\{\{(.*?)\}\}", re.S)
_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _lazy(module: str, name: str) -> Callable[[str], str]:
    """The escaper ``name`` of ``envinject.rules.contexts.<module>``, imported on first use: a start that renders
    nothing does not load them."""

    def escape(value: str) -> str:
        function: Callable[[str], str] = getattr(importlib.import_module(f"{__package__}.contexts.{module}"), name)
        return function(value)

    return escape


ESCAPERS: dict[str, Callable[[str], str]] = {
    "raw": lambda v: v,
    "json": _lazy("jsonfmt", "string"),
    "yaml": _lazy("yamlfmt", "scalar"),
    "shell": _lazy("shell", "word"),
    "url": lambda v: url_quote(v, safe=""),
    "dotenv": dotenv.quote,
    "toml": _lazy("tomlfmt", "string"),
    "ini": _lazy("ini", "value"),
    "npmrc": _lazy("npmrc", "value"),
    "properties": _lazy("properties", "escape"),
}
#: The format a template's file name implies, when no option names one: by its end, after a template suffix.
_BY_SUFFIX = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".sh": "shell", ".bash": "shell", ".envrc": "shell",
              ".env": "dotenv", ".toml": "toml", ".ini": "ini", ".cfg": "ini", ".npmrc": "npmrc",
              ".properties": "properties"}  # fmt: skip
#: Suffixes that mark a file as a template of the file its name gives without them (``config.yaml.tpl``).
_TEMPLATE_SUFFIXES = (".tpl", ".tmpl", ".template", ".in")


def format_for(path: str) -> str | None:
    """The format a file's name implies (:data:`_BY_SUFFIX`, ``npmrc``, and ``.env.*`` for dotenv), after a
    template suffix (``.tpl``, ``.tmpl``, ``.template``, ``.in``) is set aside; None when it implies none."""
    name = path.rsplit("/", 1)[-1].lower()
    bare = next((name[: -len(s)] for s in _TEMPLATE_SUFFIXES if name.endswith(s) and len(name) > len(s)), name)
    found = next((fmt for suffix, fmt in _BY_SUFFIX.items() if bare.endswith(suffix)), None)
    if found is None and bare == "npmrc":
        return "npmrc"
    if found is None and bare.startswith(".env."):
        return "dotenv"
    return found


@record(frozen=True)
class Tag:
    """One ``{{ ... }}``: a reference, a variable, or a literal, and the format it is escaped for."""

    where: str
    fmt: str | None
    ref: Ref | None = None
    var: str | None = None
    literal: str | None = field(default=None, repr=False)


@record(frozen=True)
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


def _pieces(template: Template) -> tuple[list[str], list[Tag]]:
    """The literal text around the value tags (a literal tag's ``{{`` is text) and those tags, in order."""
    pieces, tags, current = [], [], ""
    for part in template.parts:
        if isinstance(part, str) or part.literal is not None:
            current += part if isinstance(part, str) else part.literal or ""
        else:
            pieces.append(current)
            tags.append(part)
            current = ""
    pieces.append(current)
    return pieces, tags


def _writers(template: Template, fmt: str | None) -> tuple[list[Tag], list[Callable[[str], str]]]:
    """Each value tag, and how its value is written: for the file's reader where it stands, after the tag's own
    format; ConfigError, naming the tag's line, for one with no format or at a place where nothing can be written."""
    from .contexts import scan

    pieces, tags = _pieces(template)
    if fmt is None:
        bare = next((t for t in tags if t.fmt is None), None)
        if bare is not None:
            raise ConfigError(
                f"{bare.where}: the template's name gives no format (such as .json, .yaml, .sh, .env, .toml, "
                ".ini, .npmrc, .properties) and this tag names none, so a value could be read as code or syntax",
                hint="name one: render --format FORMAT, or {{ ... | FORMAT }} (raw writes values as they are)",
            )
        return tags, [ESCAPERS[t.fmt or "raw"] for t in tags]
    places = scan(fmt, pieces, [t.where for t in tags]) or [ESCAPERS[fmt]] * len(tags)
    writers = []
    for tag, place in zip(tags, places, strict=True):
        own = tag.fmt
        if own == "raw":
            writers.append(ESCAPERS["raw"])
        elif own is None or own == fmt:
            writers.append(place)
        else:
            writers.append(_then(ESCAPERS[own], place))
    return tags, writers


def _then(encode: Callable[[str], str], place: Callable[[str], str]) -> Callable[[str], str]:
    """A tag's own format, then the writing for where it stands."""
    return lambda value: place(encode(value))


def check_template(template: Template, fmt: str | None) -> None:
    """What can be refused before any value is known: a tag with no format in a file whose name gives none, a
    tag where no value can be written (a comment, a here-document...). ConfigError naming the line."""
    _writers(template, fmt)


def render_template(
    template: Template,
    values: Mapping[Ref, str],
    env: Mapping[str, str],
    default_fmt: str | None,
    warn: Callable[[str], None] | None = None,
) -> str:
    """The text with every tag replaced by its value, written for the file's reader (``default_fmt``) where the
    tag stands: references from ``values``, variables from ``env``. A variable that is not set, or a value that
    cannot be written where its tag stands, is an error naming the line (never the value). ``warn`` hears of each
    value of a .env that python-dotenv's default interpolation would rewrite."""
    tags, writers = _writers(template, default_fmt)
    written: dict[int, str] = {}
    expanded: dict[str, None] = {}  # the lines of a .env whose text python-dotenv's interpolation would rewrite
    for tag, write in zip(tags, writers, strict=True):
        if tag.ref is not None:
            value = values[tag.ref]
        else:
            assert tag.var is not None
            if tag.var not in env:
                raise ConfigError(f"{tag.where}: {tag.var} is not set", hint="set it, or add a secret that sets it")
            value = env[tag.var]
        try:
            written[id(tag)] = write(value)
        except Unwritable as e:
            raise SecretFormatError(f"{tag.where}: the value contains {e.reason}", hint=e.hint) from None
        if default_fmt == "dotenv":
            expanded.update(dict.fromkeys(dotenv.interpolation_hazards({tag.where: written[id(tag)]})))
    if warn is not None:
        for where in expanded:
            warn(f"{where}: the value {dotenv.EXPANDED}")
    out = []
    for part in template.parts:
        if isinstance(part, str):
            out.append(part)
        else:
            out.append(part.literal if part.literal is not None else written[id(part)])
    return "".join(out)
