"""Parse secret references. Pure: no I/O.

Grammar (see the README for examples)::

    REF     := [VAR "="] ["sm://"] ID ["?" QUERY] ["#" KEYPATH]
             | [VAR "="] ECS-ARN
    ID      := a secret name ([A-Za-z0-9/_+=.@-]) or a full or partial ARN
    QUERY   := "version-stage=" STAGE | "version-id=" UUID   (joined by "&")
    KEYPATH := KEY ("." KEY)*  where "\\." is a literal dot and "\\\\" a backslash
    ECS-ARN := arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME[:JSON_KEY[:STAGE[:VERSION_ID]]]

``VAR=`` is an assignment only when the text before the first ``=`` is a valid variable name and the
reference has no ``sm://`` before it. A secret whose name itself looks like ``VAR=...`` is written with
the scheme: ``sm://A=B``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import RefError

SCHEME = "sm://"
_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")
_QUERY_TAIL = re.compile(r"\?((?:version-stage|version-id)=[^?#]*(?:&[^?#]*)*)\Z")
_QUERY_KEYS = {"version-stage": "version_stage", "version-id": "version_id"}
_ARN_PARTS = 7  # arn:partition:secretsmanager:region:account:secret:name


@dataclass(frozen=True)
class Locator:
    """What to fetch: one version of one secret. Hashable, so a secret named twice is fetched once."""

    secret_id: str
    version_stage: str | None = None
    version_id: str | None = None

    @property
    def region(self) -> str | None:
        """The region an ARN names, or None for a plain name."""
        if self.secret_id.startswith("arn:"):
            return self.secret_id.split(":")[3] or None
        return None

    @property
    def versioned(self) -> bool:
        return self.version_stage is not None or self.version_id is not None

    def __str__(self) -> str:
        query = [f"{k}={v}" for k, v in (("version-stage", self.version_stage), ("version-id", self.version_id)) if v]
        return self.secret_id + ("?" + "&".join(query) if query else "")


@dataclass(frozen=True)
class Ref:
    """A parsed reference: the secret, an optional key path inside it and an optional target variable."""

    text: str
    locator: Locator
    key: tuple[str, ...] | None = None
    var: str | None = None


def split_assignment(text: str) -> tuple[str | None, str]:
    """Split ``VAR=rest`` into (VAR, rest); (None, text) when there is no assignment."""
    head, sep, rest = text.partition("=")
    if sep and _VAR.fullmatch(head) and not text.startswith(SCHEME):
        return head, rest
    return None, text


def looks_like_ref(value: str) -> bool:
    """True when a value is meant as a reference (used for env-file templates): ``sm://`` or an SM ARN."""
    return value.startswith(SCHEME) or (value.startswith("arn:") and ":secretsmanager:" in value)


def parse_keypath(text: str, ref: str) -> tuple[str, ...]:
    """Split ``a.b\\.c`` into ``("a", "b.c")``."""
    parts: list[str] = []
    current: list[str] = []
    chars = iter(text)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, None)
            if nxt not in (".", "\\"):
                raise RefError(
                    f"reference {ref!r}: '\\' in a key must be followed by '.' or '\\'",
                    hint="write a\\.b for a key named a.b",
                )
            current.append(nxt)
        elif ch == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    if any(p == "" for p in parts):
        raise RefError(f"reference {ref!r}: empty key in {text!r}", hint="write NAME#key or NAME#outer.inner")
    return tuple(parts)


def _parse_query(query: str, ref: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in query.split("&"):
        k, sep, v = item.partition("=")
        if not sep or k not in _QUERY_KEYS or not v:
            raise RefError(
                f"reference {ref!r}: unknown selector {item!r}",
                hint="use ?version-stage=STAGE or ?version-id=ID",
            )
        out[_QUERY_KEYS[k]] = v
    return out


def _parse_arn(body: str, ref: str) -> tuple[Locator, tuple[str, ...] | None]:
    parts = body.split(":")
    if len(parts) < _ARN_PARTS or parts[2] != "secretsmanager" or parts[5] != "secret" or not parts[6]:
        raise RefError(
            f"reference {ref!r} is not a Secrets Manager secret ARN",
            hint="expected arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME",
        )
    if len(parts) > _ARN_PARTS + 3:
        raise RefError(
            f"reference {ref!r} has too many ':' fields",
            hint="the ECS form is ARN:JSON_KEY:VERSION_STAGE:VERSION_ID",
        )
    arn = ":".join(parts[:_ARN_PARTS])
    extra = parts[_ARN_PARTS:] + [""] * 3
    json_key, stage, version_id = extra[:3]
    locator = Locator(arn, stage or None, version_id or None)
    # ECS reads JSON_KEY as one top-level key, so dots in it are literal.
    return locator, ((json_key,) if json_key else None)


def parse_ref(text: str) -> Ref:
    """Parse one reference, raising RefError with a hint when it is malformed."""
    var, body = split_assignment(text.strip())
    if body.startswith(SCHEME):
        body = body[len(SCHEME) :]
    if not body:
        raise RefError(f"reference {text!r} names no secret", hint="write --secret NAME or VAR=NAME")

    if body.startswith("arn:") and "#" not in body and "?" not in body and body.count(":") > _ARN_PARTS - 1:
        locator, key = _parse_arn(body, text)
        return Ref(text, locator, key, var)

    keypath: tuple[str, ...] | None = None
    ident, hash_, keytext = body.partition("#")
    query: dict[str, str] = {}
    if "?" in ident:
        ident, _, q = ident.partition("?")
        query = _parse_query(q, text)
    if hash_:
        m = _QUERY_TAIL.search(keytext)  # also accept NAME#key?version-stage=X
        if m and not query:
            query = _parse_query(m.group(1), text)
            keytext = keytext[: m.start()]
        keypath = parse_keypath(keytext, text)

    if ident.startswith("arn:"):
        locator, ecs_key = _parse_arn(ident, text)
        if ecs_key or locator.versioned:
            raise RefError(f"reference {text!r} mixes the ECS ':' form with '#' or '?'", hint="use one form")
    elif not _NAME.fullmatch(ident):
        raise RefError(
            f"reference {text!r}: {ident!r} is not a valid secret name",
            hint="names use letters, digits and / _ + = . @ - (at most 512)",
        )
    return Ref(text, Locator(ident, query.get("version_stage"), query.get("version_id")), keypath, var)
