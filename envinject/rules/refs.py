"""Parse secret references. Pure: no I/O.

Grammar (see the README for examples)::

    REF     := [TARGET] ["sm://"] ID ["?" QUERY] ["#" KEYPATH]
             | [TARGET] ECS-ARN
             | [TARGET] "ssm://" PARAM [":" SELECTOR | "?" SSM-QUERY] ["#" KEYPATH]
             | [PREFIX "*="] "ssm://" PATH "/"
             | [PREFIX "*="] ["sm://"] NAME-PREFIX "*"
             | [PREFIX "*="] "sm://?tag:" TAG-KEY "=" TAG-VALUE
    TARGET  := VAR "="            the value (or one key) into exactly VAR
             | PREFIX "*="        each name made from a key gets PREFIX, as written, in front (DB1_*=prod/db1)
    ID      := a secret name ([A-Za-z0-9/_+=.@-]) or a full or partial ARN
    QUERY   := "version-stage=" STAGE | "version-id=" UUID | ACCESS   (joined by "&")
    ACCESS  := "role=" ROLE-ARN | "external-id=" ID | "failover-region=" REGION ("," REGION)*
    KEYPATH := KEY ("." KEY)*  where "\\." is a literal dot and "\\\\" a backslash
    ECS-ARN := arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME[:JSON_KEY[:STAGE[:VERSION_ID]]]
    PARAM   := a Parameter Store name ([A-Za-z0-9/_.-]) or its ARN (arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME)
    SELECTOR:= a version number or a label, as the SSM API writes them (NAME:3, NAME:prod)
    SSM-QUERY := "version=" N | "label=" LABEL | ACCESS

``ssm://`` followed by a name ending in ``/`` is a path: every parameter below it, recursively. A path sets many
variables, so it takes no ``VAR=``, selector or key. A parameter's ARN needs no scheme (as ECS's ``valueFrom``).

ACCESS may follow every form but the ECS one (``prod/app/*?role=...``, ``sm://?tag:k=v&role=...``,
``ssm:///app/?role=...``): the secret is read with that IAM role (assumed with ``external-id``, if given), and
from the replicas in the failover regions, in order, when its own region does not answer.

``VAR=file:REF`` (and ``--file VAR=REF``) puts the value into a file and ``VAR`` names its path: the whole
SecretString or SecretBinary byte for byte, one key with ``#KEY``, or one parameter. A path or a selection cannot
be one file.

``NAME-PREFIX*`` selects every secret whose name starts with NAME-PREFIX, and ``?tag:KEY=VALUE`` every secret
with that tag (the key ends at the first ``=``); a selection sets many variables, so it takes no ``VAR=``, key
or version. ``PREFIX`` is a valid variable name or empty; it replaces ``--prefix`` for that reference.

``VAR=`` is an assignment only when the text before the first ``=`` is a valid variable name and the
reference has no ``sm://`` before it. A secret whose name itself looks like ``VAR=...`` is written with
the scheme: ``sm://A=B``.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import RefError, quote
from ..records import record, replace

SCHEME = "sm://"
SSM_SCHEME = "ssm://"
#: ``VAR=file:REF``: the value goes into a file, and VAR holds its path.
FILE_PREFIX = "file:"
_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PREFIX = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_]*)?\*")
_TAG = "?tag:"
_TAG_KEY = re.compile(r"[\w .:/+@-]{1,128}")  # the characters AWS allows in a tag, less "=" (which ends the key)
_TAG_VALUE = re.compile(r"[\w .:/=+@-]{1,256}")
_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")
_QUERY_TAIL = re.compile(r"\?((?:version-stage|version-id|role|external-id|failover-region)=[^?#]*(?:&[^?#]*)*)\Z")
_QUERY_KEYS = {"version-stage": "version_stage", "version-id": "version_id"}
#: The keys that say how a reference is read rather than which version: every form takes them.
_ACCESS_KEYS = {"role": "role", "external-id": "external_id", "failover-region": "failover"}
#: An IAM role's ARN, as STS AssumeRole takes it.
ROLE_ARN = re.compile(r"arn:aws(?:-[a-z]+)*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
#: STS's rule for an external id.
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")
#: How every AWS region is named (us-east-1, us-gov-west-1, cn-northwest-1, eusc-de-east-1, with or without fips).
AWS_REGION_NAME = re.compile(r"(fips-)?[a-z]{2,}(-[a-z]+)+-\d{1,2}(-fips)?")
_ARN_PARTS = 7  # arn:partition:secretsmanager:region:account:secret:name
_SSM_NAME = re.compile(r"[A-Za-z0-9/_.-]{1,2048}")
_SSM_SELECTOR = re.compile(r"[0-9]+|[A-Za-z_.-][A-Za-z0-9_.-]{0,99}")
_SSM_ARN_PARTS = 6  # arn:partition:ssm:region:account:parameter/name


@record(frozen=True)
class Locator:
    """What to fetch: one version of one secret. Hashable, so a secret named twice is fetched once."""

    secret_id: str
    #: Secrets Manager: a staging label and a version id. Parameter Store: a label and a version number.
    version_stage: str | None = None
    version_id: str | None = None
    #: Which backend holds it: "sm" (Secrets Manager) or "ssm" (Parameter Store), from the reference's scheme.
    backend: str = "sm"
    #: A tag selection, (KEY, VALUE): every secret with that tag (``secret_id`` is then empty).
    tag: tuple[str, str] | None = None
    #: The IAM role to read it with (``?role=``), and the external id to assume it with; None: the caller's own.
    role: str | None = None
    external_id: str | None = None
    #: Regions holding replicas to read from, in order, when its own region does not answer (``?failover-region=``).
    failover: tuple[str, ...] = ()
    #: The region a plain name is read in, when not the default (a failover read); an ARN names its own.
    pinned_region: str | None = None

    @property
    def region(self) -> str | None:
        """The region an ARN names (or a failover read was pinned to), or None for the default region."""
        if self.secret_id.startswith("arn:"):
            return self.secret_id.split(":")[3] or None
        return self.pinned_region

    def in_region(self, region: str) -> Locator:
        """The same secret read in ``region``: a replica keeps the name, and its ARN differs in the region alone."""
        if self.secret_id.startswith("arn:"):
            parts = self.secret_id.split(":")
            parts[3] = region
            return replace(self, secret_id=":".join(parts), failover=())
        return replace(self, pinned_region=region, failover=())

    @property
    def access(self) -> tuple[str | None, str | None]:
        """Who reads it: (role, external id); (None, None) for the caller's own credentials."""
        return self.role, self.external_id

    @property
    def versioned(self) -> bool:
        return self.version_stage is not None or self.version_id is not None

    @property
    def is_path(self) -> bool:
        """A Parameter Store path: every parameter below it."""
        return self.backend == "ssm" and self.secret_id.endswith("/")

    @property
    def name_prefix(self) -> str | None:
        """A name selection's prefix (``prod/app/`` for ``prod/app/*``); None for anything else."""
        if self.backend == "sm" and self.secret_id.endswith("*") and not self.secret_id.startswith("arn:"):
            return self.secret_id[:-1]
        return None

    @property
    def is_selection(self) -> bool:
        """Many secrets, found by a name prefix or a tag rather than named one by one."""
        return self.tag is not None or self.name_prefix is not None

    @property
    def selected(self) -> str:
        """A parameter's name with its version or label as the SSM API takes it: ``/app/db:3``, ``/app/db:blue``."""
        selector = self.version_id or self.version_stage
        return self.secret_id + (f":{selector}" if selector else "")

    def describe(self) -> str:
        """What it is, for messages: ``secret 'APIKEYS'``, ``parameter '/app/url'``, ``parameter path '/app/'``."""
        if self.tag is not None:
            return f"secrets tagged {'='.join(self.tag)!r}"
        if self.name_prefix is not None:
            return f"secrets under {self.name_prefix!r}"
        if self.backend == "sm":
            return f"secret {quote(self.secret_id)}"
        return f"parameter {'path ' if self.is_path else ''}{quote(self.selected)}"

    def __str__(self) -> str:
        access = self._access_query()
        if self.backend == "ssm":
            return SSM_SCHEME + self.selected + ("?" + "&".join(access) if access else "")
        if self.tag is not None:
            return f"{SCHEME}{_TAG}{self.tag[0]}={self.tag[1]}" + "".join("&" + a for a in access)
        query = [f"{k}={v}" for k, v in (("version-stage", self.version_stage), ("version-id", self.version_id)) if v]
        return self.secret_id + ("?" + "&".join(query + self._access_query()) if query or self.role else "")

    def _access_query(self) -> list[str]:
        """The access keys a message names the locator by: its role (an external id only says how it is assumed)."""
        return [f"role={self.role}"] if self.role else []


@record(frozen=True)
class Ref:
    """A parsed reference: the secret, an optional key path inside it and an optional target variable, or a
    prefix for the names it makes (``DB1_*=``)."""

    text: str
    locator: Locator
    key: tuple[str, ...] | None = None
    var: str | None = None
    #: ``PREFIX*=``: put this in front of every name made from a key, instead of --prefix.
    prefix: str | None = None
    #: The value goes into a file, and ``var`` holds its path.
    as_file: bool = False


def split_assignment(text: str) -> tuple[str | None, str]:
    """Split ``VAR=rest`` into (VAR, rest), and ``PREFIX*=rest`` into (``PREFIX*``, rest); (None, text) when there
    is neither. Secret names cannot hold ``*``, so ``PREFIX*=`` is never part of a name."""
    head, sep, rest = text.partition("=")
    if sep and (_VAR.fullmatch(head) or _PREFIX.fullmatch(head)) and not text.startswith((SCHEME, SSM_SCHEME)):
        return head, rest
    return None, text


def is_secret_name(name: str) -> bool:
    """True for a name Secrets Manager can give a secret (checked in answers, which may come from anywhere)."""
    return _NAME.fullmatch(name) is not None


def is_prefix_target(target: str) -> bool:
    """True for ``PREFIX*``, the left side of a per-reference prefix (``DB1_*``, or ``*`` for none)."""
    return _PREFIX.fullmatch(target) is not None


def looks_like_ref(value: str) -> bool:
    """True when a value is meant as a reference (used for env-file templates): ``sm://``, ``ssm://`` or an
    SM ARN, or one of those after ``file:``."""
    value = value.removeprefix(FILE_PREFIX)
    return value.startswith((SCHEME, SSM_SCHEME)) or (
        value.startswith("arn:") and value.split(":")[2:3] in (["secretsmanager"], ["ssm"])
    )


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
                    f"reference {quote(ref)}: '\\' in a key must be followed by '.' or '\\'",
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
        raise RefError(f"reference {quote(ref)}: empty key in {quote(text)}", hint="write NAME#key or NAME#outer.inner")
    return tuple(parts)


def _parse_query(query: str, ref: str, *, versions: dict[str, str] | None = None) -> dict[str, Any]:
    """``k=v&k=v`` as Locator's keyword arguments: the version keys given (``versions``: the query key -> the
    field; Secrets Manager's by default) and the access keys every form takes."""
    known = _QUERY_KEYS if versions is None else versions
    out: dict[str, Any] = {}
    for item in query.split("&"):
        k, sep, v = item.partition("=")
        if not sep or not v or (k not in known and k not in _ACCESS_KEYS):
            names = " or ".join(f"?{key}=..." for key in known)
            raise RefError(
                f"reference {quote(ref)}: unknown selector {quote(item)}",
                hint=f"use {names}, or ?role=ARN, ?external-id=ID, ?failover-region=REGION",
            )
        field_name = known.get(k) or _ACCESS_KEYS[k]
        if field_name in out:
            raise RefError(f"reference {quote(ref)} gives {k} twice", hint=f"give {k} once")
        out[field_name] = _access_value(k, v, ref) if k in _ACCESS_KEYS else v
    if "external_id" in out and "role" not in out:
        raise RefError(f"reference {quote(ref)}: external-id goes with role", hint="add ?role=ARN")
    return out


#: Each single-valued access key: the rule its value follows, what a refusal says of it, and the hint.
_ACCESS_RULES = {
    "role": (ROLE_ARN, "is not an IAM role ARN", "for example ?role=arn:aws:iam::210987654321:role/reader"),
    "external-id": (_EXTERNAL_ID, "is not an external id (2 to 1224 letters, digits and + = , . @ : / -)",
                    "write it as the role's trust policy has it"),
}  # fmt: skip


def _access_value(key: str, value: str, ref: str) -> Any:
    if key in _ACCESS_RULES:
        rule, problem, hint = _ACCESS_RULES[key]
        if not rule.fullmatch(value):
            raise RefError(f"reference {quote(ref)}: the {key} {quote(value)} {problem}", hint=hint)
        return value
    regions = tuple(value.split(","))
    bad = [r for r in regions if not AWS_REGION_NAME.fullmatch(r)]
    if bad or len(set(regions)) != len(regions):
        raise RefError(
            f"reference {quote(ref)}: failover-region takes region names, each once, and "
            f"{quote(bad[0]) if bad else 'one is repeated'}",
            hint="for example ?failover-region=us-west-2,eu-west-1",
        )
    return regions


def _parse_arn(body: str, ref: str) -> tuple[Locator, tuple[str, ...] | None]:
    parts = body.split(":")
    if len(parts) < _ARN_PARTS or parts[2] != "secretsmanager" or parts[5] != "secret" or not parts[6]:
        raise RefError(
            f"reference {quote(ref)} is not a Secrets Manager secret ARN",
            hint="expected arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME",
        )
    if len(parts) > _ARN_PARTS + 3:
        raise RefError(
            f"reference {quote(ref)} has too many ':' fields",
            hint="the ECS form is ARN:JSON_KEY:VERSION_STAGE:VERSION_ID",
        )
    arn = ":".join(parts[:_ARN_PARTS])
    extra = parts[_ARN_PARTS:] + [""] * 3
    json_key, stage, version_id = extra[:3]
    locator = Locator(arn, stage or None, version_id or None)
    # ECS reads JSON_KEY as one top-level key, so dots in it are literal.
    return locator, ((json_key,) if json_key else None)


def _parse_ssm(var: str | None, body: str, text: str) -> Ref:
    """``ssm://NAME[:SELECTOR][?version=N|?label=L][#KEYPATH]``, or ``ssm:///PATH/``."""
    ident, hash_, keytext = body.partition("#")
    ident, q, query = ident.partition("?")
    selectors: list[str] = []
    access_items: list[str] = []
    for item in query.split("&") if q else []:
        k, _, v = item.partition("=")
        if (k == "version" and v.isdigit()) or (k == "label" and _SSM_SELECTOR.fullmatch(v) and not v.isdigit()):
            selectors.append(v)
        elif k in _ACCESS_KEYS:
            access_items.append(item)
        else:
            raise RefError(
                f"reference {quote(text)}: unknown selector {quote(item)}",
                hint="use ?version=N or ?label=LABEL, or ?role=ARN, ?external-id=ID, ?failover-region=REGION",
            )
    access = _parse_query("&".join(access_items), text, versions={}) if access_items else {}
    if ident.startswith("arn:"):
        parts = ident.split(":")
        if len(parts) < _SSM_ARN_PARTS or parts[2] != "ssm" or not parts[5].startswith("parameter/"):
            raise RefError(
                f"reference {quote(text)} is not a Parameter Store parameter ARN",
                hint="expected arn:aws:ssm:REGION:ACCOUNT:parameter/NAME",
            )
        name, selectors = ":".join(parts[:_SSM_ARN_PARTS]), selectors + parts[_SSM_ARN_PARTS:]
        plain = parts[5][len("parameter/") :]
    else:
        name, colon, suffix = ident.partition(":")
        selectors += [suffix] if colon else []
        plain = name
    if not plain:
        raise RefError(f"reference {quote(text)} names no parameter", hint="write ssm:///PATH/NAME or ssm:///PATH/")
    if not _SSM_NAME.fullmatch(plain) or "//" in plain:
        raise RefError(
            f"reference {quote(text)}: {quote(plain)} is not a valid parameter name",
            hint="names use letters, digits and / _ . - ; a path is written ssm:///a/b/",
        )
    if len(selectors) > 1 or any(not _SSM_SELECTOR.fullmatch(s) for s in selectors):
        raise RefError(
            f"reference {quote(text)} has more than one or a malformed version selector",
            hint="write NAME:VERSION, NAME:LABEL, ?version=N or ?label=LABEL, once",
        )
    selector = selectors[0] if selectors else None
    pinned_version = selector is not None and selector.isdigit()
    locator = Locator(name, None if pinned_version else selector, selector if pinned_version else None, "ssm", **access)
    if locator.is_path:
        if not ident.startswith("arn:") and not name.startswith("/"):
            raise RefError(f"reference {quote(text)}: a parameter path starts with '/'", hint=f"write ssm:///{name}")
        if var is not None or hash_ or selector:
            raise RefError(
                f"reference {quote(text)} is a path, which sets one variable per parameter",
                hint="drop VAR=, #KEY and version selectors, or name one parameter: ssm:///PATH/NAME",
            )
    return Ref(text, locator, parse_keypath(keytext, text) if hash_ else None, var)


def file_template(text: str) -> tuple[str, str] | None:
    """``(VAR, TEMPLATE)`` of a file secret written ``VAR=@TEMPLATE`` (a file rendered from TEMPLATE); None for
    any other file secret (``VAR=REF``). The one place that reads this grammar."""
    var, body = split_assignment(text.strip())
    return (var, body[1:]) if var is not None and body.startswith("@") else None


def parse_file_ref(text: str) -> Ref:
    """``--file VAR=REF``: the value of REF in a file whose path VAR holds (``file:`` before REF is allowed)."""
    var, body = split_assignment(text.strip())
    if var is None:
        raise RefError(f"file secret {text!r} names no variable", hint="write --file VAR=NAME#KEY")
    return parse_ref(f"{var}={body if body.startswith(FILE_PREFIX) else FILE_PREFIX + body}")


def parse_ref(text: str) -> Ref:
    """Parse one reference, raising RefError with a hint when it is malformed."""
    target, body = split_assignment(text.strip())
    head, star, _ = text.strip().partition("*=")
    if target is None and star and not text.startswith((SCHEME, SSM_SCHEME)):
        # No secret's name holds '*': PREFIX*= was meant, with a prefix that cannot start a variable name.
        raise RefError(
            f"reference {quote(text)}: {quote(head)} cannot start a variable name (letters, digits and _, not "
            "starting with a digit), so it is no prefix",
            hint="for example DB1_*=prod/db1",
        )
    if target is not None and is_prefix_target(target):
        return replace(_parse_body(None, body, text), prefix=target[:-1])
    if target is not None and body.startswith(FILE_PREFIX):
        ref = _parse_body(target, body[len(FILE_PREFIX) :], text)
        if ref.locator.is_path or ref.locator.is_selection:
            raise RefError(f"reference {text!r}: a file holds one value", hint="name one secret or parameter")
        return replace(ref, as_file=True)
    return _parse_body(target, body, text)


def _selection_access(body: str, text: str) -> tuple[str, dict[str, Any]]:
    """A selection, and its access keys: ``prod/app/*?role=...``, ``?tag:k=v&role=...`` (a tag takes no ``&``)."""
    if body.startswith(_TAG):
        selection, amp, query = body.partition("&")
    else:
        selection, amp, query = body.partition("?")
    return selection, (_parse_query(query, text, versions={}) if amp else {})


def _parse_selection(body: str, text: str) -> Locator:
    """``NAME-PREFIX*`` or ``?tag:KEY=VALUE`` (after ``sm://``)."""
    if body.startswith(_TAG):
        key, _, value = body[len(_TAG) :].partition("=")
        if not _TAG_KEY.fullmatch(key) or not _TAG_VALUE.fullmatch(value):
            raise RefError(
                f"reference {text!r}: a tag selection is written sm://?tag:KEY=VALUE",
                hint="for example sm://?tag:app=billing; it takes no #KEY or version",
            )
        return Locator("", tag=(key, value))
    ident = body[:-1]
    if not ident or not _NAME.fullmatch(ident):
        raise RefError(
            f"reference {text!r}: {body!r} is not a name prefix followed by one '*'",
            hint="write sm://prod/app/* for every secret whose name starts with prod/app/; it takes no #KEY or version",
        )
    return Locator(body)


def _parse_body(var: str | None, body: str, text: str) -> Ref:
    if body.startswith(SSM_SCHEME):
        return _parse_ssm(var, body[len(SSM_SCHEME) :], text)
    if body.startswith("arn:") and body.split(":")[2:3] == ["ssm"]:  # as ECS's valueFrom writes a parameter
        return _parse_ssm(var, body, text)
    if body.startswith(SCHEME):
        body = body[len(SCHEME) :]
    if body.startswith(_TAG) or (not body.startswith("arn:") and "*" in body.split("#")[0].split("?")[0]):
        body, access = _selection_access(body, text)
        locator = replace(_parse_selection(body, text), **access)
        if var is not None:
            raise RefError(
                f"reference {text!r} selects many secrets, which set one variable per key",
                hint=f"drop {var}=, or give their names a prefix: {var}_*={body}",
            )
        return Ref(text, locator)
    if not body:
        raise RefError(f"reference {quote(text)} names no secret", hint="write --secret NAME or VAR=NAME")

    if body.startswith("arn:") and "#" not in body and "?" not in body and body.count(":") > _ARN_PARTS - 1:
        locator, key = _parse_arn(body, text)
        return Ref(text, locator, key, var)

    keypath: tuple[str, ...] | None = None
    ident, hash_, keytext = body.partition("#")
    query: dict[str, Any] = {}
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
            raise RefError(f"reference {quote(text)} mixes the ECS ':' form with '#' or '?'", hint="use one form")
    elif not _NAME.fullmatch(ident):
        raise RefError(
            f"reference {quote(text)}: {quote(ident)} is not a valid secret name",
            hint="names use letters, digits and / _ + = . @ - (at most 512)",
        )
    return Ref(text, Locator(ident, **query), keypath, var)
