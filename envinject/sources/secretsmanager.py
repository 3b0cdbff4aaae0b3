"""AWS Secrets Manager. The client is injected; only GetSecretValue, BatchGetSecretValue and, for a selection
(``sm://prod/app/*``, ``sm://?tag:k=v``), ListSecrets are called."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import EnvinjectError, FetchError
from ..rules.refs import Locator, is_secret_name
from . import Account, Payload, RequestCount, all_or_nothing, each_concurrently
from .aws import client_endpoint, client_error, failure_kind, translate

GET = "secretsmanager:GetSecretValue"
BATCH = "secretsmanager:BatchGetSecretValue"
LIST = "secretsmanager:ListSecrets"
BATCH_LIMIT = 20
_MAX_WORKERS = 8

ClientFor = Callable[[str | None], Any]


class SecretsManagerSource:
    """Fetches secrets: BatchGetSecretValue for two or more, GetSecretValue for one or a pinned version.

    A denied or throttled batch falls back to concurrent GetSecretValue calls, so a policy that allows only
    ``secretsmanager:GetSecretValue`` works, and a fleet that exhausts the batch quota still starts.
    """

    def __init__(
        self,
        client_for: ClientFor,
        *,
        batch_client_for: ClientFor | None = None,
        batch: bool = True,
        note: Callable[[str], None] | None = None,
    ) -> None:
        self._client_for = client_for
        self._batch_client_for = batch_client_for or client_for
        self.batch = batch
        self._note = note or (lambda _msg: None)
        self.requests = RequestCount()

    @classmethod
    def from_client(cls, client: Any, **kwargs: Any) -> SecretsManagerSource:
        """A source that uses one client for every secret (tests, or one region)."""
        return cls(lambda _region: client, **kwargs)

    def fetch_many(self, locators: Sequence[Locator]) -> Mapping[Locator, Payload]:
        found: dict[Locator, Payload] = {}
        if self.batch:
            by_region: dict[str | None, list[Locator]] = {}
            for loc in locators:
                if not loc.versioned and not loc.is_selection:  # a batch always reads AWSCURRENT
                    by_region.setdefault(loc.region, []).append(loc)
            for group in by_region.values():
                for i in range(0, len(group), BATCH_LIMIT):
                    chunk = group[i : i + BATCH_LIMIT]
                    if len(chunk) >= 2:
                        found.update(self._batch(chunk))
        rest = [loc for loc in locators if loc not in found]
        found.update(self._fetch_concurrently(rest))
        return {loc: found[loc] for loc in locators}

    def _batch(self, chunk: list[Locator]) -> dict[Locator, Payload]:
        """Fetch up to 20 in one call. Returns what it got; whatever is missing is fetched singly."""
        client = self._batch_client_for(chunk[0].region)
        self.requests.add("BatchGetSecretValue")
        try:
            resp = client.batch_get_secret_value(SecretIdList=[loc.secret_id for loc in chunk])
        except Exception as exc:  # noqa: BLE001 - any failure of the batch falls back to single reads
            err = translate(exc, secret_what(chunk[0]), client, BATCH)
            reason = {"denied": "was denied", "throttled": "was throttled"}.get(
                failure_kind(err), f"failed ({getattr(err, 'code', '')})"
            )
            self._note(
                f"BatchGetSecretValue {reason}; fetching {len(chunk)} secrets with GetSecretValue instead"
                + (" (--no-batch skips the batch attempt)" if failure_kind(err) == "denied" else "")
            )
            return {}
        got: dict[Locator, Payload] = {}
        for value in resp.get("SecretValues", []):
            for loc in chunk:
                if loc not in got and _matches(loc.secret_id, value):
                    got[loc] = _payload(value, str(loc), client)
        failed = {e.get("SecretId"): e for e in resp.get("Errors", [])}
        for loc in chunk:
            if loc not in got and loc.secret_id in failed:
                e = failed[loc.secret_id]
                err = translate(
                    client_error(str(e.get("ErrorCode")), str(e.get("Message", "")), "BatchGetSecretValue"),
                    secret_what(loc),
                    client,
                    GET,
                )
                err.subject = loc
                raise err
        return got

    def _fetch_concurrently(self, locators: Sequence[Locator]) -> dict[Locator, Payload]:
        return all_or_nothing(self.fetch_each(locators))

    def fetch_each(self, locators: Sequence[Locator]) -> dict[Locator, Payload | EnvinjectError]:
        """GetSecretValue for each locator, concurrently, each one's result or error (for check)."""
        if len(locators) > 1:
            # Build the clients first: a setup failure (no region, an unknown profile) is one error for the call.
            for loc in locators:
                self._client_for(loc.region)
        return each_concurrently(self.fetch_one, locators, _MAX_WORKERS)

    def fetch_one(self, loc: Locator) -> Payload:
        """One GetSecretValue call, with the version selectors the locator carries; or every secret of a
        selection."""
        if loc.is_selection:
            return self._select(loc)
        client = self._client_for(loc.region)
        kwargs: dict[str, str] = {"SecretId": loc.secret_id}
        if loc.version_stage:
            kwargs["VersionStage"] = loc.version_stage
        if loc.version_id:
            kwargs["VersionId"] = loc.version_id
        self.requests.add("GetSecretValue")
        try:
            resp = client.get_secret_value(**kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure becomes one clear message
            err = translate(exc, secret_what(loc), client, GET)
            raise (self._version_missing(loc, client) or err if err.kind == "not_found" else err) from None
        return _payload(resp, str(loc), client)

    def _select(self, loc: Locator) -> Payload:
        """Every secret of a selection, in name order. A name prefix is read with BatchGetSecretValue's name
        filter, page by page; when that is denied or fails, and for a tag, ListSecrets finds the secrets (a tag
        pair must match exactly, which the batch filters cannot say) and they are read as any secrets are."""
        found = self._select_batch(loc) if self.batch and loc.name_prefix is not None else None
        if found is None:
            listed = self._list(loc)
            read = self.fetch_many if self.batch and loc.tag is not None else self._fetch_concurrently
            payloads = read([Locator(arn) for arn in listed.values()]) if listed else {}
            found = {name: payloads[Locator(arn)] for name, arn in listed.items()}
        if not found:
            raise FetchError(
                f"no secret matches {loc.describe()} in {_region_of(self._client_for(None))}",
                hint="check the prefix or tag, or --region if they live in another region",
                code="ResourceNotFoundException",
                kind="not_found",
            )
        import hashlib

        members = tuple(sorted(found.items()))
        digest = hashlib.sha256("\n".join(f"{n}\0{p.version_id}" for n, p in members).encode()).hexdigest()
        return Payload(version_id=digest[:32], members=members)

    def _select_batch(self, loc: Locator) -> dict[str, Payload] | None:
        """The secrets whose names start with the prefix, from BatchGetSecretValue with a name filter; None when
        the batch call fails (the caller falls back to ListSecrets)."""
        prefix = loc.name_prefix or ""
        client = self._batch_client_for(None)
        found: dict[str, Payload] = {}
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Filters": [{"Key": "name", "Values": [prefix]}], "MaxResults": BATCH_LIMIT}
            if token:
                kwargs["NextToken"] = token
            self.requests.add("BatchGetSecretValue")
            try:
                resp = client.batch_get_secret_value(**kwargs)
            except Exception as exc:  # noqa: BLE001 - any failure of the batch falls back to ListSecrets
                err = translate(exc, loc.describe(), client, BATCH)
                self._note(f"BatchGetSecretValue for {loc.describe()} failed ({err.message}); listing them with "
                           "ListSecrets and reading each with GetSecretValue instead")  # fmt: skip
                return None
            for e in resp.get("Errors", []):
                raise translate(
                    client_error(str(e.get("ErrorCode")), str(e.get("Message", "")), "BatchGetSecretValue"),
                    f"secret {str(e.get('SecretId'))!r}",
                    client,
                    GET,
                )
            for value in resp.get("SecretValues", []):
                name = _checked_name(value, loc, client)
                if name.startswith(prefix):  # the filter is AWS's; the rule is ours
                    found[name] = _payload(value, name, client)
            token = resp.get("NextToken")
            if not token:
                return found

    def _list(self, loc: Locator) -> dict[str, str]:
        """Name -> ARN of every secret a selection names."""
        return {str(e["Name"]): str(e["ARN"]) for e in self._listed(loc)}

    def _listed(self, loc: Locator) -> list[Mapping[str, Any]]:
        """ListSecrets' entry (name, ARN, KMS key; never a value) for every secret a selection names, all pages,
        checked exactly: AWS's filters match prefixes, and of any tag key and any tag value, not of one pair."""
        client = self._client_for(None)
        if loc.tag is not None:
            key, value = loc.tag
            filters = [{"Key": "tag-key", "Values": [key]}, {"Key": "tag-value", "Values": [value]}]
        else:
            filters = [{"Key": "name", "Values": [loc.name_prefix or ""]}]
        listed: list[Mapping[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Filters": filters, "MaxResults": 100}
            if token:
                kwargs["NextToken"] = token
            self.requests.add("ListSecrets")
            try:
                resp = client.list_secrets(**kwargs)
            except Exception as exc:  # noqa: BLE001 - every failure becomes one clear message
                raise translate(exc, loc.describe(), client, LIST) from None
            for entry in resp.get("SecretList", []):
                name = _checked_name(entry, loc, client)
                if not entry.get("ARN"):
                    continue
                if loc.tag is not None:
                    matches = any((t.get("Key"), t.get("Value")) == loc.tag for t in entry.get("Tags", []))
                else:
                    matches = name.startswith(loc.name_prefix or "")
                if matches:
                    listed.append(entry)
            token = resp.get("NextToken")
            if not token:
                return listed

    def _version_missing(self, loc: Locator, client: Any) -> FetchError | None:
        """For a version that was not found: the error saying so when the secret itself exists (AWS gives the
        same code for both). It asks with the one permission a run has: its current version, value unread."""
        if not loc.versioned:
            return None
        self.requests.add("GetSecretValue")
        try:
            client.get_secret_value(SecretId=loc.secret_id)
        except Exception:  # noqa: BLE001 - no better message than the first
            return None
        return version_missing(loc, f"in {_region_of(client)}")

    def kms_keys_of(self, loc: Locator) -> list[str]:
        """The customer-managed KMS key (id, ARN or alias) a secret is encrypted with, from DescribeSecret;
        none for AWS's own ``aws/secretsmanager`` key."""
        if loc.is_selection:  # ListSecrets gives each secret's key; a run needs ListSecrets anyway
            keys = [str(e["KmsKeyId"]) for e in self._listed(loc) if e.get("KmsKeyId")]
            return sorted({k for k in keys if not _aws_managed(k)})
        client = self._client_for(loc.region)
        try:
            key = client.describe_secret(SecretId=loc.secret_id).get("KmsKeyId")
        except Exception as exc:  # noqa: BLE001 - one clear line
            raise translate(exc, secret_what(loc), client, "secretsmanager:DescribeSecret") from None
        if not key or _aws_managed(str(key)):
            return []
        return [str(key)]


def _checked_name(answer: Mapping[str, Any], loc: Locator, client: Any) -> str:
    """A secret's name from an answer: printed later (check, warnings), so one no secret can have (a control
    character, a forged line) is a bad answer, never text on the terminal."""
    name = answer.get("Name")
    if not isinstance(name, str) or not is_secret_name(name):
        raise FetchError(
            f"{client_endpoint(client)} answered for {loc.describe()} with a name that no secret can have",
            hint="check --endpoint-url and any proxy in between",
            code="BadResponse",
        )
    return name


def version_missing(loc: Locator, where: str, *, by: str = "") -> FetchError:
    """The error for a version of a secret that exists but has no such version, looked for ``where``; ``by`` names
    who answered when not AWS itself."""
    version = f"stage {loc.version_stage!r}" if loc.version_stage else f"id {loc.version_id!r}"
    if loc.version_stage and loc.version_id:
        version = f"stage {loc.version_stage!r} and id {loc.version_id!r}"
    return FetchError(
        f"secret {loc.secret_id!r} has no version with {version} {where}{by}",
        hint=f"list its versions with: aws secretsmanager list-secret-version-ids --secret-id {loc.secret_id}",
        code="ResourceNotFoundException",
        kind="not_found",
    )


def _aws_managed(key: str) -> bool:
    return key == "alias/aws/secretsmanager" or key.endswith(":alias/aws/secretsmanager")


def _region_of(client: Any) -> str:
    return str(getattr(getattr(client, "meta", None), "region_name", None) or "the configured region")


def secret_what(loc: Locator) -> str:
    """A secret as messages name it: ``secret 'APIKEYS'``."""
    return f"secret {str(loc)!r}"


def _payload(resp: Mapping[str, Any], secret: str, client: Any) -> Payload:
    """The secret in an answer. botocore turns a garbled or cut-off body into a dict without a value,
    so an answer that holds neither SecretString nor SecretBinary is an error, never an empty value."""
    if resp.get("SecretString") is None and resp.get("SecretBinary") is None:
        raise FetchError(
            f"{client_endpoint(client)} answered for secret {secret!r} without a value (a garbled or cut-off response)",
            hint="try again; check --endpoint-url and any proxy in between",
            code="BadResponse",
        )
    return Payload(
        text=resp.get("SecretString"),
        binary=resp.get("SecretBinary"),
        version_id=resp.get("VersionId"),
        arn=resp.get("ARN"),
    )


#: The six random characters AWS appends to a secret's name in its ARN.
_ARN_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}\Z")


def _matches(secret_id: str, value: Mapping[str, Any]) -> bool:
    """Does a batch answer belong to the id we asked with (a name, a full ARN or a partial ARN)?"""
    arn = str(value.get("ARN", ""))
    if secret_id.startswith("arn:"):
        return secret_id in (arn, _ARN_SUFFIX.sub("", arn))
    return secret_id == value.get("Name")


def secret_resource(loc: Locator, where: Account) -> str:
    """The ARN pattern for one secret: a full ARN as given; a name or partial ARN with ``-??????``, the six
    random characters AWS appends to every secret's ARN."""
    if loc.secret_id.startswith("arn:"):
        name = loc.secret_id.split(":", 6)[6]
        return loc.secret_id if _ARN_SUFFIX.search(name) else loc.secret_id + "-??????"
    return _arn(where, loc.secret_id + "-??????")


def grants(locators: Sequence[Locator], where: Account, *, batch: bool) -> list[dict[str, Any]]:
    """GetSecretValue on each secret; BatchGetSecretValue only when a run would batch (two or more unpinned
    secrets in a region, or a selection). BatchGetSecretValue names no secret, so it takes no resource; each
    secret is still checked against GetSecretValue. A selection adds ListSecrets (on ``*``: it names no secret
    either) and GetSecretValue on every name under its prefix, or on every secret carrying its tag."""
    named = [loc for loc in locators if not loc.is_selection]
    prefixes = sorted({loc.name_prefix for loc in locators if loc.name_prefix is not None})
    tags = sorted({loc.tag for loc in locators if loc.tag is not None})
    resources = {secret_resource(loc, where) for loc in named} | {_arn(where, p + "*") for p in prefixes}
    statements: list[dict[str, Any]] = []
    if resources:
        statements.append({"Sid": "ReadSecrets", "Effect": "Allow", "Action": GET, "Resource": sorted(resources)})
    for i, (key, value) in enumerate(tags):
        statements.append({"Sid": f"ReadTagged{i}", "Effect": "Allow", "Action": GET, "Resource": _arn(where, "*"),
                           "Condition": {"StringEquals": {f"secretsmanager:ResourceTag/{key}": value}}})  # fmt: skip
    by_region: dict[str | None, int] = {}
    for loc in {loc for loc in named if not loc.versioned}:
        by_region[loc.region] = by_region.get(loc.region, 0) + 1
    if batch and (prefixes or tags or any(n >= 2 for n in by_region.values())):
        statements.append({"Sid": "BatchReadSecrets", "Effect": "Allow", "Action": BATCH, "Resource": "*"})
    if prefixes or tags:
        statements.append({"Sid": "ListSecrets", "Effect": "Allow", "Action": LIST, "Resource": "*"})
    return statements


def _arn(where: Account, name: str) -> str:
    return f"arn:{where.partition}:secretsmanager:{where.region}:{where.account}:secret:{name}"
