"""`envinject diff A B`: which variables two sources give, and which they give differently, never a value.

A side is a ``.env`` file or env-file template, references (comma or space separated: ``sm://staging/app/*``,
``APIKEYS,prod/db?role=...``), or a stage of the config file (``stage:prod``). Each side is read as a run reads it,
through the one plan, and only the variables its secrets and files give are compared (not the inherited
environment).

"Differs" is decided by comparing HMAC-SHA-256 tags of the values under a key drawn fresh for each run and never
written anywhere: a plain hash of a short password can be reversed by trying every password, a keyed one without
the key cannot. No value, no length and no digest of a value is printed, in any format.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError, one_line
from ..options import DiffOptions
from ..records import replace
from ..system.stdio import write_stdout
from . import Log, fetch_deadline, load_settings

STATUSES = ("only_a", "only_b", "differs", "same")


def diff(given: Mapping[str, Any], options: DiffOptions, log: Log) -> int:
    """Print the drift between the two sides; 0 when there is none, 1 when there is (125 from an error: a side
    that could not be read, and then nothing is compared)."""
    from ..settings import split_secrets
    from ..validate import validate

    if len(options.sides) != 2:
        raise ConfigError(
            f"diff compares two sources, and {len(options.sides)} were given",
            hint="write envinject diff A B, or --stage A --stage B (each a .env file, references or stage:NAME)",
        )
    base = load_settings(given, log)
    sides = []
    for text in options.sides:
        if text.startswith("stage:"):
            settings = load_settings({**given, "stage": text[len("stage:") :]}, log)
        elif Path(text).is_file():
            settings = replace(base, secrets=(), files=(), env_files=(text,))
        else:
            refs = split_secrets(text)
            if not refs:
                raise ConfigError(f"diff side {one_line(text)!r} names nothing", hint="name a file or references")
            settings = replace(base, secrets=refs, files=(), env_files=())
        validate(settings)
        sides.append(settings)
    key = os.urandom(32)  # for this run only: the tags below mean nothing after it
    with fetch_deadline(base, what="the two sides"):
        tags = [_tags(settings, key, log) for settings in sides]
    statuses = compare(tags[0], tags[1], keys_only=options.keys_only, ignore=options.ignore)
    write_stdout(render(statuses, options.sides, options.fmt))
    return 1 if any(s != "same" for s in statuses.values()) else 0


def _tags(settings: Any, key: bytes, log: Log) -> dict[str, bytes]:
    """Each variable the side gives, with its value's keyed tag (the value itself is not kept)."""
    import hashlib
    import hmac

    from ..plan import inject

    injection = inject(settings, note=log.note, warn=log.warn)
    final: dict[str, bytes] = {}
    for binding in injection.bindings:  # in precedence order: the last one for a name wins, as in a run
        value = binding.content if binding.content is not None else binding.value.encode("utf-8", "surrogateescape")
        final[binding.name] = hmac.new(key, value, hashlib.sha256).digest()
    return final


def compare(
    a: Mapping[str, bytes], b: Mapping[str, bytes], *, keys_only: bool = False, ignore: tuple[str, ...] = ()
) -> dict[str, str]:
    """Each name's status, in name order: only_a, only_b, differs or same (``keys_only``: never differs)."""
    import hmac
    from fnmatch import fnmatchcase

    out: dict[str, str] = {}
    for name in sorted(set(a) | set(b)):
        if any(fnmatchcase(name, pattern) for pattern in ignore):
            continue
        if name not in b:
            out[name] = "only_a"
        elif name not in a:
            out[name] = "only_b"
        else:
            out[name] = "same" if keys_only or hmac.compare_digest(a[name], b[name]) else "differs"
    return out


def render(statuses: Mapping[str, str], labels: tuple[str, ...], fmt: str) -> str:
    """The report: a table, JSON, or GitHub annotations (one per drifting variable). Names and statuses only."""
    a, b = (one_line(label) for label in labels)
    counts = {s: sum(1 for v in statuses.values() if v == s) for s in STATUSES}
    drift = any(s != "same" for s in statuses.values())
    if fmt == "json":
        import json

        doc = {"a": labels[0], "b": labels[1], "drift": drift, "counts": counts, "variables": dict(statuses)}
        return json.dumps(doc, indent=2) + "\n"
    words = {"only_a": f"only in A ({a})", "only_b": f"only in B ({b})", "differs": "differs", "same": "same"}
    if fmt == "github":
        from ..rules.formats.github import escape_data

        lines = [f"::warning title=envinject diff::{escape_data(f'{name} {words[s]}')}"
                 for name, s in statuses.items() if s != "same"]  # fmt: skip
        summary = f"{counts['differs']} differ, {counts['only_a']} only in A, {counts['only_b']} only in B"
        lines.append(f"::notice title=envinject diff::{escape_data(f'{a} vs {b}: {summary}')}")
        return "\n".join(lines) + "\n"
    width = max((len(n) for n in statuses), default=0)
    lines = [f"A: {a}", f"B: {b}"]
    lines += [f"  {name.ljust(width)}  {words[s]}" for name, s in statuses.items() if s != "same"]
    lines.append(
        f"{'drift' if drift else 'no drift'}: {counts['differs']} differ, {counts['only_a']} only in A, "
        f"{counts['only_b']} only in B, {counts['same']} the same"
    )
    return "\n".join(lines) + "\n"
