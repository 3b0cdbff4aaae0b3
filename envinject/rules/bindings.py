"""From fetched secrets to bindings: the rules every command shares. Pure apart from the source it is given."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence

from ..errors import QUOTE_LIMIT, EnvinjectError, NamingError, SecretFormatError, quote
from ..records import field, record
from . import flatten
from .envfile import Entry, Literal
from .environment import Binding, merge
from .naming import Category, env_name, is_valid_name, protection
from .payload import Payload
from .refs import Locator, Ref, parse_ref
from .template import Template, render_template

# JSON's \uXXXX escapes can name half of a UTF-16 pair alone; Python keeps it, and UTF-8 cannot encode it.
_SURROGATE = re.compile("[\ud800-\udfff]")


@record(frozen=True)
class Naming:
    """How keys become names."""

    prefix: str = ""
    #: upper, lower or keep (--name-case).
    case: str = "upper"


@record(frozen=True)
class Options:
    """The rules that turn fetched secrets into bindings."""

    naming: Naming = field(default_factory=Naming)
    #: Protected names that secrets may set all the same (--allow).
    allow: frozenset[str] = frozenset()
    #: The secrets are layers (--layered): a later one replaces an earlier one's variable without a warning.
    layered: bool = False


def _text(ref: Ref, payload: Payload) -> str:
    if payload.text is not None:
        return payload.text
    try:
        return (payload.binary or b"").decode("utf-8")
    except UnicodeDecodeError:
        raise SecretFormatError(
            f"{ref.locator.describe()} is binary and not UTF-8 text, so it cannot be an environment variable",
            hint="store it base64-encoded as a SecretString",
        ) from None


def _json(ref: Ref, text: str) -> object:
    what = ref.locator.describe()
    try:
        return flatten.loads(text)
    except flatten.DuplicateKey as e:
        raise SecretFormatError(
            f"{what} repeats the key {quote(e.key)} in one object", hint="remove the duplicate key from it"
        ) from None
    except flatten.TooDeep:
        raise SecretFormatError(
            f"{what} nests JSON objects or arrays more than {flatten.MAX_DEPTH} levels deep",
            hint="flatten it, or write VAR=NAME to inject the text whole",
        ) from None
    except json.JSONDecodeError as e:
        if text.lstrip().startswith(("{", "[")):
            # e.msg and the position never include the document itself.
            raise SecretFormatError(
                f"{what} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}",
                hint=f"fix the JSON, or write {_whole(ref)} to inject the text whole",
                kind="not_json",
            ) from None
        raise SecretFormatError(
            f"{what} is plain text, not a JSON object",
            hint=f"write {_whole(ref)} to put it whole into {ref.var or 'VAR'}",
            kind="not_json",
        ) from None


def _whole(ref: Ref) -> str:
    """``ref`` as written to put the whole text into one variable: its own ``VAR=`` (``VAR=`` when it has none)
    and spelling (an env file's ``sm://``), without ``#KEY``."""
    spelled = ref.text.split("=", 1)[1] if ref.var is not None else str(ref.locator)
    return f"{ref.var or 'VAR'}={re.sub(r'#[^?]*', '', spelled)}"


def _keys_hint(value: object) -> str:
    if isinstance(value, dict):
        keys = list(value)
        shown = ", ".join(quote(k) for k in keys[:10]) + (", ..." if len(keys) > 10 else "")
        return f"keys there: {shown}" if keys else "the object is empty"
    return "that part of the secret is not a JSON object"


def _pairs(ref: Ref, payload: Payload) -> list[tuple[tuple[str, ...], str, str]]:
    """(key path, value, where) for each value a reference selects, before naming."""
    sid = str(ref.locator)  # as written: ssm:// and a version or label included
    if payload.items is not None and ref.var is None and ref.key is None:
        return [(item.path, item.value, item.origin) for item in payload.items]  # already named by the backend
    text = _text(ref, payload)
    if ref.var is not None and ref.key is None:
        return [((), text, sid)]
    document = _json(ref, text)
    value: object = document
    if ref.key is not None:
        try:
            value = flatten.select(document, ref.key)
        except flatten.KeyMissing as e:
            parent = flatten.select(document, e.path[:-1])
            raise SecretFormatError(
                f"{ref.locator.describe()} has no key {quote('.'.join(e.path))}",
                hint=_keys_hint(parent),
                kind="key_missing",
            ) from None
    if ref.var is not None:
        return [((), flatten.scalar_text(value), f"{sid}#{'.'.join(ref.key or ())}")]
    if ref.key is None and document == {}:
        return []  # nothing to name a variable after: an empty object sets none (-v says so)
    if ref.key is None and not isinstance(document, dict):
        raise SecretFormatError(
            f"{ref.locator.describe()} is JSON but not an object, so it has no keys to name variables after",
            hint=f"write VAR={ref.text} to put it whole into VAR",
            kind="not_json",
        )
    return [(path, val, f"{sid}#{'.'.join(path)}") for path, val in flatten.flatten(value, ref.key or ())]


@record(frozen=True)
class Refusal:
    """A protected name that a reference or a template would set."""

    name: str
    category: Category
    #: Who would set it, as a message says it: ``secret 'evil'``, ``app.env:3: secret 'evil'``, ``template 'x'``.
    origin: str
    #: The deployer wrote the name (``VAR=REF``, ``--file VAR=REF``, ``VAR=@TEMPLATE``); else a key made it.
    explicit: bool


def refusal(name: str, origin: str, allow: frozenset[str], *, explicit: bool) -> Refusal | None:
    """Why ``name`` may not be set from ``origin``, or None when it may: names not protected, names in --allow,
    and a name the deployer wrote in a category whose names a deployer may write (:attr:`Category.explicit`)."""
    category = protection(name)
    if category is None or name in allow or (explicit and category.explicit):
        return None
    return Refusal(name, category, origin, explicit)


#: The most refused names one message lists; the rest are counted.
_SHOWN = 20


def _shown(name: str) -> str:
    """A name as a message shows it: as it is (a valid name needs no escaping), or quoted and cut when long."""
    return name if len(name) <= QUOTE_LIMIT else quote(name)


def _names(names: Sequence[str], titles: Mapping[str, str] | None = None) -> str:
    """Names for a message, each with its title in brackets when given, the first :data:`_SHOWN` of them."""
    shown = [_shown(n) + (f" ({titles[n]})" if titles else "") for n in names[:_SHOWN]]
    return ", ".join(shown) + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def protected_error(refusals: Sequence[Refusal]) -> NamingError:
    """One error for every refused name of a run: each with its category, grouped by who would set it, and the
    --allow words that would let them all through."""
    by_origin: dict[str, dict[str, str]] = {}
    for r in refusals:
        by_origin.setdefault(r.origin, {})[r.name] = r.category.title
    parts = [f"{origin} would set {_names(list(named), named)}" for origin, named in by_origin.items()]
    names = list(dict.fromkeys(r.name for r in refusals))
    allow = " ".join(f"--allow {_shown(n)}" for n in names[:_SHOWN]) + (
        f" (and {len(names) - _SHOWN} more)" if len(names) > _SHOWN else ""
    )
    renamable = list(dict.fromkeys(r.name for r in refusals if not r.explicit and r.category.explicit))
    rename = f", or name {_names(renamable)} yourself (NAME=REF#KEY)" if renamable else ""
    return NamingError(
        "; ".join(parts) + ": protected names, through which whoever writes a secret could take over the command",
        hint=f"pass {allow} if that is really wanted{rename}",
        kind="protected",
    )


def _file_content(ref: Ref, payload: Payload) -> bytes:
    """A file secret's bytes: a SecretBinary as stored, else the UTF-8 text of the value or of its key."""
    if ref.key is None and payload.text is None and payload.binary is not None:
        return payload.binary
    [(_, text, _)] = _pairs(ref, payload)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise SecretFormatError(
            f"{ref.locator.describe()} holds text that is not valid Unicode, so it cannot be written to a file",
            hint="store it as valid UTF-8",
        ) from None


def bindings_for(ref: Ref, payload: Payload, naming: Naming) -> list[Binding]:
    """The variables one reference sets, checked: valid names, no collisions, no NUL. Protected names are the
    caller's to refuse (:func:`refusal`), so that a run names them all at once."""
    what = ref.locator.describe()
    out: list[Binding] = []
    if ref.as_file and ref.var is not None:
        where = "file:" + (f"{ref.locator}#{'.'.join(ref.key)}" if ref.key else str(ref.locator))
        return [Binding(ref.var, "", where, _file_content(ref, payload))]
    seen: dict[str, str] = {}
    for path, val, where in _pairs(ref, payload):
        if _SURROGATE.search(where):
            raise SecretFormatError(
                f"{where!r} has a key with a lone UTF-16 surrogate (a \\ud800-\\udfff escape without its pair), "
                "which is not text that a name or a message can hold",
                hint="store the character itself, or both halves of its surrogate pair",
            )
        prefix = naming.prefix if ref.prefix is None else ref.prefix
        name = ref.var if ref.var is not None else env_name(path, prefix=prefix, case=naming.case)
        if not is_valid_name(name):
            raise NamingError(
                f"{quote(where)} gives {quote(name)}, which is not a valid variable name",
                hint=f"use --prefix or a prefix for this reference (P_*=REF), or VAR={where} to name it yourself",
                kind="bad_name",
            )
        if name in seen:
            raise NamingError(
                f"{quote(seen[name])} and {quote(where)} both become {name}",
                hint=f"rename one of them, or name each yourself: VAR={where}",
                kind="collision",
            )
        if "\0" in val:
            raise SecretFormatError(
                f"the value for {name} from {what} contains a NUL byte, which no environment can hold",
                hint="remove the NUL from it",
            )
        if _SURROGATE.search(val):
            raise SecretFormatError(
                f"the value for {name} from {where!r} contains a lone UTF-16 surrogate (a \\ud800-\\udfff escape "
                "without its pair), which is not text that an environment or a file can hold",
                hint="store the character itself, or both halves of its surrogate pair",
            )
        seen[name] = where
        out.append(Binding(name, val, where))
    return out


#: Precedence layers, lowest first: env files, then secrets, then explicit VAR= secrets.
ENV_FILE, SECRET, ASSIGNMENT = 0, 1, 2


Layered = tuple[int, str, Entry]
#: Called with (where, reference, its bindings or its error) when a caller wants every outcome.
Outcome = Callable[[str, Ref, "list[Binding] | EnvinjectError"], None]


def layered_entries(refs: Sequence[str | Ref], env_files: Sequence[Sequence[tuple[str, Entry]]] = ()) -> list[Layered]:
    """Every entry with its precedence layer and where it was written, in the order given."""
    layered: list[Layered] = [(ENV_FILE, where, e) for f in env_files for where, e in f]
    for r in refs:
        ref = r if isinstance(r, Ref) else parse_ref(r)
        layered.append((ASSIGNMENT if ref.var is not None else SECRET, ref.text, ref))
    return layered


def _members(where: str, ref: Ref, payload: Payload) -> list[tuple[str, Ref, Payload]]:
    """(where, reference, payload) for each secret a reference reads: itself, or each secret a selection found,
    read as if named alone (with the selection's prefix)."""
    if payload.members is None:
        return [(where, ref, payload)]
    return [(name, Ref(name, Locator(name), prefix=ref.prefix), member) for name, member in payload.members]


def _overrides(ordered: Sequence[tuple[int, str | None, Binding]]) -> Iterator[str]:
    """One line for each variable that a secret sets and a later, different secret replaces. Names, never values."""
    setter: dict[str, tuple[str, str]] = {}
    for _, label, b in ordered:
        if label is None:  # a literal from an env file: the user's own default
            continue
        before = setter.get(b.name)
        if before is not None and before[1] != b.source:  # the same key of the same secret twice loses nothing
            yield (
                f"{b.name} from {before[0]!r} is replaced by the later {label!r}; pass --layered if that is "
                "meant, or give one a prefix (P_*=REF) to keep both"
            )
        setter[b.name] = (label, b.source)


def bind_all(
    layered: Sequence[Layered],
    results: Mapping[Locator, Payload | EnvinjectError],
    options: Options,
    outcome: Outcome | None = None,
    warn: Callable[[str], None] | None = None,
    note: Callable[[str], None] | None = None,
    refused: list[Refusal] | None = None,
) -> list[Binding]:
    """Bindings for every entry, in precedence order. The first failure raises, unless ``outcome`` is given:
    then each reference's bindings or error goes to it, and the failed ones are left out. A protected name is
    no first failure: every one of the run is gathered, into ``refused`` when given (the caller adds its own and
    raises :func:`protected_error`), else raised together at the end. ``warn`` hears of each variable one secret
    sets and a later one replaces (unless ``options.layered``, or the run is refused); ``note`` hears of a
    reference that sets no variable (an empty JSON object)."""
    gathered: list[Refusal] = [] if refused is None else refused
    bindings: list[tuple[int, str | None, Binding]] = []
    for layer, where, entry in layered:
        if isinstance(entry, Literal):
            bindings.append((layer, None, Binding(entry.name, entry.value, where)))
            continue
        found: list[tuple[str, Binding]] = []
        refusals: list[Refusal] = []
        try:
            result = results[entry.locator]
            if isinstance(result, EnvinjectError):
                raise result
            for label, ref, payload in _members(where, entry, result):
                origin = ref.locator.describe()
                if layer == ENV_FILE and outcome is None:  # say which line of which file asked for it
                    origin = f"{where}: {origin}"
                for b in bindings_for(ref, payload, options.naming):
                    refused_b = refusal(b.name, origin, options.allow, explicit=ref.var is not None)
                    if refused_b is None:
                        found.append((label, b))
                    else:
                        refusals.append(refused_b)
        except EnvinjectError as e:
            if outcome is not None:
                outcome(where, entry, e)
                continue
            if layer == ENV_FILE:  # say which line of which file asked for it
                raise type(e)(f"{where}: {e.message}", hint=e.hint, kind=e.kind) from None
            raise
        if refusals:
            if outcome is not None:
                outcome(where, entry, protected_error(refusals))
            else:
                gathered.extend(refusals)
            continue
        if outcome is not None:
            outcome(where, entry, [b for _, b in found])
        if not found and note is not None:
            note(f"{where}: {entry.locator.describe()} is an empty JSON object, so it sets no variable")
        bindings.extend((layer, label, b) for label, b in found)
    if gathered and refused is None:
        raise protected_error(gathered)
    ordered = sorted(bindings, key=lambda lb: lb[0])
    if warn is not None and not options.layered and not gathered:
        for line in _overrides(ordered):
            warn(line)
    return [b for _, _, b in ordered]


@record(frozen=True)
class FileTemplate:
    """``--file VAR=@TEMPLATE``: a file whose content is TEMPLATE rendered, written for a reader of ``fmt`` (None: the
    name gives no format, and every tag names its own)."""

    var: str
    template: Template
    fmt: str | None


def template_refusals(templates: Sequence[FileTemplate], allow: frozenset[str]) -> list[Refusal]:
    """The protected names that templates would set (each named by the deployer: ``VAR=@TEMPLATE``)."""
    found = (refusal(t.var, f"template {quote(t.template.origin)}", allow, explicit=True) for t in templates)
    return [r for r in found if r is not None]


def bind_templates(
    templates: Sequence[FileTemplate],
    results: Mapping[Locator, Payload | EnvinjectError],
    bindings: Sequence[Binding],
    inherited: Mapping[str, str],
    options: Options,
    outcome: Outcome | None = None,
    warn: Callable[[str], None] | None = None,
) -> list[Binding]:
    """A file binding per template, rendered with the values of its references and the run's variables
    (``inherited`` with ``bindings`` applied). The first failure raises, unless ``outcome`` is given: then each
    tag's reference goes to it, and the templates are not rendered (a report needs their names only). Their
    names are checked before, by :func:`template_refusals`. ``warn`` hears of each rendered .env value that
    python-dotenv's default interpolation would rewrite."""
    env = merge(inherited, bindings)
    out = []
    for t in templates:
        origin = f"template:{t.template.origin}"
        if outcome is not None:
            for tag in t.template.tags:
                if tag.ref is not None:
                    outcome(tag.where, tag.ref, _tag_outcome(tag.ref, results[tag.ref.locator], options))
            out.append(Binding(t.var, "", origin, b""))
            continue
        values = {ref: _value(ref, results[ref.locator], options) for ref in t.template.refs}
        text = render_template(t.template, values, env, t.fmt, warn)
        try:
            content = text.encode("utf-8")
        except UnicodeEncodeError:
            raise SecretFormatError(
                f"template {t.template.origin!r} renders text that is not valid Unicode", hint="store valid UTF-8"
            ) from None
        out.append(Binding(t.var, "", origin, content))
    return out


def _value(ref: Ref, result: Payload | EnvinjectError, options: Options) -> str:
    """The one value a template's reference gives."""
    if isinstance(result, EnvinjectError):
        raise result
    return bindings_for(ref, result, options.naming)[0].value


def _tag_outcome(ref: Ref, result: Payload | EnvinjectError, options: Options) -> list[Binding] | EnvinjectError:
    try:
        _value(ref, result, options)
    except EnvinjectError as e:
        return e
    return []
