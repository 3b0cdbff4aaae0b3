"""AWS Secrets Manager. The client is injected; only GetSecretValue and BatchGetSecretValue are called."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..errors import EnvinjectError, FetchError
from ..refs import Locator
from . import Payload

GET = "secretsmanager:GetSecretValue"
BATCH = "secretsmanager:BatchGetSecretValue"
BATCH_LIMIT = 20
KMS_DECRYPT = "kms:Decrypt"
_DENIED = {"AccessDeniedException", "AccessDenied", "403", "UnauthorizedOperation"}
_BAD_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredTokenException",
    "ExpiredToken",
}
_MAX_WORKERS = 8
_THROTTLED = {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}

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
        #: Requests sent, by operation name (for -v and the benchmarks).
        self.requests: dict[str, int] = {}

    @classmethod
    def from_client(cls, client: Any, **kwargs: Any) -> SecretsManagerSource:
        """A source that uses one client for every secret (tests, or one region)."""
        return cls(lambda _region: client, **kwargs)

    def _count(self, op: str) -> None:
        self.requests[op] = self.requests.get(op, 0) + 1

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
        self._count("BatchGetSecretValue")
        try:
            resp = client.batch_get_secret_value(SecretIdList=[loc.secret_id for loc in chunk])
        except Exception as exc:  # noqa: BLE001 - any failure of the batch falls back to single reads
            err = translate(exc, chunk[0].secret_id, client, BATCH)
            reason = {"denied": "was denied", "throttled": "was throttled"}.get(
                _kind(err), f"failed ({getattr(err, 'code', '')})"
            )
            self._note(
                f"BatchGetSecretValue {reason}; fetching {len(chunk)} secrets with GetSecretValue instead"
                + (" (--no-batch skips the batch attempt)" if _kind(err) == "denied" else "")
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
                raise translate(_client_error(str(e.get("ErrorCode")), str(e.get("Message", ""))), str(loc), client)
        return got

    def _fetch_concurrently(self, locators: Sequence[Locator]) -> dict[Locator, Payload]:
        results = self.fetch_each(locators)
        for result in results.values():  # the first failure in the order given, so the message is deterministic
            if isinstance(result, EnvinjectError):
                raise result
        return results  # type: ignore[return-value]

    def fetch_each(self, locators: Sequence[Locator]) -> dict[Locator, Payload | EnvinjectError]:
        """GetSecretValue for each locator, concurrently, each one's result or error (for check)."""
        if len(locators) <= 1:
            return {loc: self._fetch_or_error(loc) for loc in locators}
        # Build the clients first, in this thread: botocore's session is not safe to build them concurrently.
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
        self._count("GetSecretValue")
        try:
            resp = client.get_secret_value(**kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure becomes one clear message
            raise translate(exc, str(loc), client) from None
        return _payload(resp, str(loc), client)

    def kms_key_of(self, loc: Locator) -> str | None:
        """The customer-managed KMS key (id, ARN or alias) a secret is encrypted with, from DescribeSecret;
        None for AWS's own ``aws/secretsmanager`` key."""
        client = self._client_for(loc.region)
        try:
            key = client.describe_secret(SecretId=loc.secret_id).get("KmsKeyId")
        except Exception as exc:  # noqa: BLE001 - one clear line
            raise translate(exc, str(loc), client, "secretsmanager:DescribeSecret") from None
        if not key or key == "alias/aws/secretsmanager" or key.endswith(":alias/aws/secretsmanager"):
            return None
        return str(key)


def _payload(resp: Mapping[str, Any], secret: str, client: Any) -> Payload:
    """The secret in an answer. botocore turns a garbled or cut-off body into a dict without a value,
    so an answer that holds neither SecretString nor SecretBinary is an error, never an empty value."""
    if resp.get("SecretString") is None and resp.get("SecretBinary") is None:
        raise FetchError(
            f"{_endpoint(client)} answered for secret {secret!r} without a value (a garbled or cut-off response)",
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


def _client_error(code: str, message: str) -> Exception:
    from botocore.exceptions import ClientError

    error: Exception = ClientError({"Error": {"Code": code, "Message": message}}, "BatchGetSecretValue")
    return error


def _kind(err: EnvinjectError) -> str:
    if isinstance(err, FetchError) and err.denied_action:
        return "denied"
    if isinstance(err, FetchError) and err.code in _THROTTLED:
        return "throttled"
    return "other"


def _one_line(text: str) -> str:
    """An AWS error message on one short line; an HTML error page is no message at all."""
    if text.lstrip().startswith("<"):
        return "the endpoint answered with an HTML error page"
    flat = " ".join(text.split())
    return flat if len(flat) <= 200 else flat[:197] + "..."


def _endpoint(client: Any) -> str:
    try:
        return str(client.meta.endpoint_url)
    except AttributeError:
        return "the Secrets Manager endpoint"


def _region(client: Any) -> str:
    try:
        return str(client.meta.region_name)
    except AttributeError:
        return "the configured region"


def translate(exc: BaseException, secret: str, client: Any, action: str = GET) -> EnvinjectError:
    """Turn a botocore exception into one line naming the secret, the cause and a fix. No value is in it."""
    if isinstance(exc, EnvinjectError):
        return exc
    from botocore import exceptions as bx
    from botocore.parsers import ResponseParserError

    s = f"secret {secret!r}"
    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        msg = str(err.get("Message", ""))
        if code == "ResourceNotFoundException":
            return FetchError(
                f"{s} was not found in {_region(client)}",
                hint="check the name, or --region if it lives in another region",
                code=code,
            )
        if code in _DENIED or code in ("DecryptionFailure", "KMSAccessDeniedException"):
            needed = denied_action(code, msg, action)
            return FetchError(
                f"access denied to {s}: the caller lacks {needed}",
                hint=f"allow {needed} on this {'key' if needed == KMS_DECRYPT else 'secret'} "
                "(envinject policy prints the policy)",
                code=code,
                denied_action=needed,
            )
        if code in _BAD_CREDENTIALS:
            return FetchError(
                f"AWS rejected the credentials while reading {s} ({code})",
                hint="refresh them (aws sso login, or new access keys) or check AWS_PROFILE",
                code=code,
            )
        if code == "InvalidRequestException" and "delet" in msg.lower():
            return FetchError(
                f"{s} is scheduled for deletion",
                hint="restore it with: aws secretsmanager restore-secret --secret-id NAME",
                code=code,
            )
        if code in _THROTTLED:
            return FetchError(
                f"AWS throttled the request for {s} and retries ran out",
                hint="try again, or lower the request rate",
                code=code,
            )
        return FetchError(f"AWS refused to give {s}: {code}{': ' + _one_line(msg) if msg else ''}", code=code)
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return FetchError(
            f"no AWS credentials were found to read {s}",
            hint="set AWS_PROFILE, run aws sso login / aws configure, or set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY",
            code="NoCredentials",
        )
    if isinstance(exc, bx.NoRegionError):
        return FetchError("no AWS region is set", hint="pass --region or set AWS_REGION", code="NoRegion")
    if isinstance(exc, bx.ConnectTimeoutError | bx.ReadTimeoutError):
        return FetchError(
            f"timed out talking to {_endpoint(client)} for {s}",
            hint="check the network, VPC endpoint or --endpoint-url; --timeout sets the limit",
            code="Timeout",
        )
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectionClosedError | bx.HTTPClientError):
        return FetchError(
            f"could not reach {_endpoint(client)} for {s}",
            hint="check the network, proxy, VPC endpoint or --endpoint-url",
            code="Unreachable",
        )
    if isinstance(exc, bx.ParamValidationError):
        return FetchError(f"{s} is not a valid secret id for AWS", hint="check the name or ARN", code="BadId")
    if isinstance(exc, _credential_errors(bx)):
        # These messages describe the credential source (SSO, a process, a role), never a secret.
        return FetchError(
            f"could not get AWS credentials to read {s}: {_one_line(str(exc))}",
            hint="refresh them (aws sso login) or check AWS_PROFILE",
            code="Credentials",
        )
    if isinstance(exc, ResponseParserError):
        # Its text quotes the raw body, which may hold a value: never show it.
        return FetchError(
            f"{_endpoint(client)} sent a response for {s} that could not be read",
            hint="check --endpoint-url and any proxy in between",
            code="BadResponse",
        )
    return FetchError(
        f"could not read {s}: unexpected {type(exc).__name__}", hint="report it if it persists", code=type(exc).__name__
    )


_PERFORM = re.compile(r"perform:? ([A-Za-z0-9-]+:[A-Za-z0-9]+)")


def denied_action(code: str, message: str, default: str) -> str:
    """The IAM action a denial is about: named in AWS's message, else KMS when KMS is mentioned."""
    m = _PERFORM.search(message)
    if m:
        return m.group(1)
    if code in ("DecryptionFailure", "KMSAccessDeniedException") or "kms" in message.lower():
        return KMS_DECRYPT
    return default


def _credential_errors(bx: Any) -> tuple[type[BaseException], ...]:
    names = (
        "CredentialRetrievalError",
        "TokenRetrievalError",
        "SSOTokenLoadError",
        "UnauthorizedSSOTokenError",
        "SSOError",
        "InvalidConfigError",
        "RefreshWithMFAUnsupportedError",
    )
    return tuple(getattr(bx, n) for n in names if hasattr(bx, n))
