"""AWS Secrets Manager. The client is injected; only GetSecretValue and BatchGetSecretValue are called."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..errors import EnvinjectError, FetchError
from ..refs import Locator
from . import Account, Payload, RequestCount, all_or_nothing
from .aws import client_error, endpoint_of, failure_kind, translate

GET = "secretsmanager:GetSecretValue"
BATCH = "secretsmanager:BatchGetSecretValue"
BATCH_LIMIT = 20
_MAX_WORKERS = 8

ClientFor = Callable[[str | None], Any]


class SecretsManagerSource:
    """Fetches secrets: BatchGetSecretValue for two or more, GetSecretValue for one or a pinned version.

    A denied or throttled batch falls back to concurrent GetSecretValue calls, so a policy that allows only
    ``secretsmanager:GetSecretValue`` works, and a fleet that exhausts the batch quota still starts.
    """

    service = "secretsmanager"

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
                if not loc.versioned:  # a batch always reads AWSCURRENT
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
            err = translate(exc, _what(chunk[0]), client, BATCH)
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
                    _what(loc),
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
        if len(locators) <= 1:
            return {loc: self._fetch_or_error(loc) for loc in locators}
        # Build the clients first: a setup failure (no region, an unknown profile) is one error for the call.
        for loc in locators:
            self._client_for(loc.region)
        with ThreadPoolExecutor(max_workers=min(_MAX_WORKERS, len(locators))) as pool:
            return dict(zip(locators, pool.map(self._fetch_or_error, locators), strict=True))

    def _fetch_or_error(self, loc: Locator) -> Payload | EnvinjectError:
        try:
            return self.fetch_one(loc)
        except EnvinjectError as e:
            return e

    def fetch_one(self, loc: Locator) -> Payload:
        """One GetSecretValue call, with the version selectors the locator carries."""
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
            raise translate(exc, _what(loc), client, GET) from None
        return _payload(resp, str(loc), client)

    def kms_keys_of(self, loc: Locator) -> list[str]:
        """The customer-managed KMS key (id, ARN or alias) a secret is encrypted with, from DescribeSecret;
        none for AWS's own ``aws/secretsmanager`` key."""
        client = self._client_for(loc.region)
        try:
            key = client.describe_secret(SecretId=loc.secret_id).get("KmsKeyId")
        except Exception as exc:  # noqa: BLE001 - one clear line
            raise translate(exc, _what(loc), client, "secretsmanager:DescribeSecret") from None
        if not key or key == "alias/aws/secretsmanager" or key.endswith(":alias/aws/secretsmanager"):
            return []
        return [str(key)]


def _what(loc: Locator) -> str:
    return f"secret {str(loc)!r}"


def _payload(resp: Mapping[str, Any], secret: str, client: Any) -> Payload:
    """The secret in an answer. botocore turns a garbled or cut-off body into a dict without a value,
    so an answer that holds neither SecretString nor SecretBinary is an error, never an empty value."""
    if resp.get("SecretString") is None and resp.get("SecretBinary") is None:
        raise FetchError(
            f"{endpoint_of(client)} answered for secret {secret!r} without a value (a garbled or cut-off response)",
            hint="try again; check --endpoint-url and any proxy in between",
            code="BadResponse",
        )
    return Payload(
        text=resp.get("SecretString"),
        binary=resp.get("SecretBinary"),
        version_id=resp.get("VersionId"),
        arn=resp.get("ARN"),
    )


_ARN_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}\Z")


def _matches(secret_id: str, value: Mapping[str, Any]) -> bool:
    """Does a batch answer belong to the id we asked with (a name, a full ARN or a partial ARN)?"""
    arn = str(value.get("ARN", ""))
    if secret_id.startswith("arn:"):
        return secret_id in (arn, _ARN_SUFFIX.sub("", arn))
    return secret_id == value.get("Name")


_FULL_ARN = re.compile(r"-[A-Za-z0-9]{6}\Z")


def secret_resource(loc: Locator, where: Account) -> str:
    """The ARN pattern for one secret: a full ARN as given; a name or partial ARN with ``-??????``, the six
    random characters AWS appends to every secret's ARN."""
    if loc.secret_id.startswith("arn:"):
        name = loc.secret_id.split(":", 6)[6]
        return loc.secret_id if _FULL_ARN.search(name) else loc.secret_id + "-??????"
    return f"arn:{where.partition}:secretsmanager:{where.region}:{where.account}:secret:{loc.secret_id}-??????"


def grants(locators: Sequence[Locator], where: Account, *, batch: bool) -> list[dict[str, Any]]:
    """GetSecretValue on each secret; BatchGetSecretValue only when a run would batch (two or more unpinned
    secrets in a region). BatchGetSecretValue names no secret, so it takes no resource; each secret is still
    checked against GetSecretValue."""
    statements: list[dict[str, Any]] = [
        {"Sid": "ReadSecrets", "Effect": "Allow", "Action": GET,
         "Resource": sorted({secret_resource(loc, where) for loc in locators})}
    ]  # fmt: skip
    by_region: dict[str | None, int] = {}
    for loc in {loc for loc in locators if not loc.versioned}:
        by_region[loc.region] = by_region.get(loc.region, 0) + 1
    if batch and any(n >= 2 for n in by_region.values()):
        statements.append({"Sid": "BatchReadSecrets", "Effect": "Allow", "Action": BATCH, "Resource": "*"})
    return statements
