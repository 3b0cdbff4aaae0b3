"""Building botocore clients, and turning their errors into one-line messages. botocore is imported when a
client is first needed, and nowhere at start."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

from .. import __version__
from ..errors import ConfigError, EnvinjectError, FetchError
from ..records import field, record
from ..rules.retry import RetryPolicy
from .endpoints import endpoint


@record(frozen=True)
class AwsSettings:
    """Connection settings from the command line; None means the standard AWS chain decides."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    #: Endpoints for one service each (botocore's service name), in place of ``endpoint_url`` for that service.
    service_endpoints: tuple[tuple[str, str], ...] = ()
    #: The whole fetch's deadline; each connection and read gets a share of it.
    timeout: float = 30.0
    #: Where the profile was set when not by --profile or AWS_PROFILE (``profile in 'envinject.toml'``).
    profile_origin: str | None = None
    #: Tries per request (throttling and 5xx only; botocore's standard mode waits between them).
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class ClientFactory:
    """One botocore session, one client per (service, region), built on first use and reused."""

    def __init__(self, settings: AwsSettings | None = None, environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings or AwsSettings()
        self._environ = os.environ if environ is None else environ
        self._session: Any = None
        self._clients: dict[tuple[str, str, bool, tuple[str, str | None] | None], Any] = {}
        self._role_sessions: dict[tuple[str, str | None], Any] = {}
        #: Requests the factory itself sends (sts:AssumeRole), for -v and the benchmarks.
        self.requests = _count()
        # botocore's session is not safe to build clients from two threads at once (backends run concurrently).
        self._lock = threading.Lock()
        #: For -v: seconds spent building clients (loading botocore included), and finding credentials.
        self.setup_seconds = 0.0
        self.credentials_seconds: float | None = None
        #: How botocore found them: "env", "shared-credentials-file", "sso", "container-role", "iam-role"...
        self.credentials_method: str | None = None

    def _get_session(self) -> Any:
        if self._session is None:
            import botocore.session

            from .loader import use_narrow_loader

            self._session = botocore.session.Session(profile=self.settings.profile)
            use_narrow_loader(self._session, self._environ)
        return self._session

    def default_region(self) -> str:
        """--region, then AWS_REGION (as the AWS CLI reads it), then AWS_DEFAULT_REGION and the profile."""
        from botocore.exceptions import ProfileNotFound

        region = self.settings.region or self._environ.get("AWS_REGION")
        if not region:
            try:
                region = self._get_session().get_config_variable("region")
            except ProfileNotFound:
                raise self._profile_missing() from None
        if not region:
            raise ConfigError(
                "no AWS region is set",
                hint="pass --region, set AWS_REGION, or set region in your AWS profile",
            )
        return str(region)

    def _profile_missing(self) -> ConfigError:
        return ConfigError(
            f"AWS profile {self.settings.profile or self._environ.get('AWS_PROFILE')!r} is not in your AWS config",
            hint=f"check {self.settings.profile_origin or '--profile / AWS_PROFILE'} against ~/.aws/config",
        )

    def client(
        self, service: str, region: str | None = None, *, retries: bool = True, role: str | None = None,
        external_id: str | None = None,
    ) -> Any:  # fmt: skip
        """A client for ``service`` in ``region`` (the default region when None), with the caller's credentials or,
        given a ``role``, that role's (assumed once, with ``external_id`` if given, and refreshed before they
        expire).

        ``retries=False`` gives a client that tries once, for calls that have a cheaper fallback.
        """
        with self._lock:
            started = time.perf_counter()
            try:
                return self._client(service, region, retries, (role, external_id) if role else None)
            finally:
                self.setup_seconds += time.perf_counter() - started

    def _role_session(self, role: str, external_id: str | None) -> Any:
        """A botocore session whose credentials are ``role``'s, from one sts:AssumeRole with the caller's own
        credentials; botocore refreshes them before they expire (the resident modes). A failure is one line naming
        the role, never a credential."""
        key = (role, external_id)
        if key not in self._role_sessions:
            import botocore.session
            from botocore.credentials import CredentialResolver, RefreshableCredentials

            from .loader import use_narrow_loader

            sts = self._client("sts", None, True, None)

            def assume() -> dict[str, str]:
                kwargs = {"RoleArn": role, "RoleSessionName": f"envinject-{os.getpid()}"}
                if external_id:
                    kwargs["ExternalId"] = external_id
                self.requests.add("AssumeRole")
                try:
                    found = sts.assume_role(**kwargs)["Credentials"]
                except Exception as exc:  # noqa: BLE001 - one clear line naming the role
                    raise translate(exc, f"role {role!r}", sts, "sts:AssumeRole") from None
                return {"access_key": found["AccessKeyId"], "secret_key": found["SecretAccessKey"],
                        "token": found["SessionToken"], "expiry_time": found["Expiration"].isoformat()}  # fmt: skip

            credentials = RefreshableCredentials.create_from_metadata(assume(), assume, "assume-role")

            class Provider:
                METHOD = CANONICAL_NAME = "assume-role"

                def load(self) -> Any:
                    return credentials

            session = botocore.session.Session()
            use_narrow_loader(session, self._environ)
            session.register_component("credential_provider", CredentialResolver([Provider()]))
            self._role_sessions[key] = session
        return self._role_sessions[key]

    def _find_credentials(self) -> None:
        """Resolve credentials once, timed; botocore reuses them for every client. A failure is left for the
        client's first request to report, as without this."""
        started = time.perf_counter()
        try:
            found = self._get_session().get_credentials()
        except Exception:  # noqa: BLE001 - reported by the request that needs them
            found = None
        self.credentials_seconds = time.perf_counter() - started
        self.credentials_method = getattr(found, "method", None)

    def _client(self, service: str, region: str | None, retries: bool, access: tuple[str, str | None] | None) -> Any:
        region = region or self.default_region()
        key = (service, region, retries, access)
        if key not in self._clients:
            from botocore.config import Config
            from botocore.exceptions import ProfileNotFound

            config = Config(
                # A dead endpoint fails a connection fast; a hung one a read. Both leave time for retries.
                connect_timeout=min(self.settings.timeout, 3.0),
                read_timeout=min(self.settings.timeout, 10.0),
                # total_max_attempts counts the first try; botocore's max_attempts would count retries only.
                retries={"mode": "standard", "total_max_attempts": self.settings.retry.attempts if retries else 1},
                user_agent_extra=f"envinject/{__version__}",
            )
            if self.credentials_seconds is None:
                self._find_credentials()
            found = endpoint(service, region, self.settings, self._environ)
            session = self._get_session() if access is None else self._role_session(*access)
            try:
                client = session.create_client(
                    service, region_name=region, endpoint_url=found.url if found.configured else None, config=config
                )
            except ProfileNotFound:
                raise self._profile_missing() from None
            client.meta.events.register("needs-retry", LAST_FAILURES.record)
            self._clients[key] = client
        return self._clients[key]


def _count() -> Any:
    from . import RequestCount

    return RequestCount()


KMS_DECRYPT = "kms:Decrypt"
#: Error codes for a secret or parameter (or that version of it) that does not exist.
NOT_FOUND = {"ResourceNotFoundException", "ParameterNotFound", "ParameterVersionNotFound"}
_DENIED = {"AccessDeniedException", "AccessDenied", "403", "UnauthorizedOperation"}
_BAD_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredTokenException",
    "ExpiredToken",
}
THROTTLED = {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}


def client_error(code: str, message: str, operation: str) -> Exception:
    """A botocore ClientError for an error AWS reported inside a successful answer (per-item errors)."""
    from botocore.exceptions import ClientError

    error: Exception = ClientError({"Error": {"Code": code, "Message": message}}, operation)
    return error


def failure_kind(err: EnvinjectError) -> str:
    """ "denied", "throttled" or "other": whether a cheaper call's failure is worth a fallback."""
    if isinstance(err, FetchError) and err.denied_action:
        return "denied"
    if isinstance(err, FetchError) and err.code in THROTTLED:
        return "throttled"
    return "other"


def _one_line(text: str) -> str:
    """An AWS error message on one short line; an HTML error page is no message at all."""
    if text.lstrip().startswith("<"):
        return "the endpoint answered with an HTML error page"
    flat = " ".join(text.split())
    return flat if len(flat) <= 200 else flat[:197] + "..."


#: An AWS error code: a name of letters, digits, ``_``, ``.`` and ``-`` with a letter in it
#: (``AWS.SimpleQueueService.NonExistentQueue``), never the bare HTTP status botocore puts there for a body that
#: named no code.
ERROR_CODE = re.compile(r"(?=[0-9_.-]*[A-Za-z])[A-Za-z0-9_.-]{1,128}")


def aws_error(exc: Any) -> tuple[str, str] | None:
    """The code and message of a botocore ClientError, or None when the answer was no AWS error document.

    When a body does not parse as an AWS error (a proxy's page, a cut-off body), botocore puts the HTTP status in
    as the code and the raw body as the message; and with an ``x-amzn-query-error`` header it takes the header's
    code instead of the status, whatever the body was (keeping the body's own as ``QueryErrorCode``). That text
    may hold a value, so it is used only when the body itself named a code, and every code looks like one: a
    code that could move the cursor or end a line makes the answer no error document at all.
    """
    err = exc.response.get("Error") or {}
    code, msg = str(err.get("Code") or ""), str(err.get("Message") or "")
    own = str(err.get("QueryErrorCode", code) or "")
    if not (ERROR_CODE.fullmatch(own) and ERROR_CODE.fullmatch(code)):
        return None
    return code, msg


def _http_status(exc: Any) -> str:
    """The HTTP status of the answer behind a ClientError, as text; empty when it is not known."""
    meta = exc.response.get("ResponseMetadata") or {}
    status = str(meta.get("HTTPStatusCode") or (exc.response.get("Error") or {}).get("Code") or "")
    return status if status.isdigit() else ""


def raw_answer(exc: Any) -> str:
    """What a non-2xx answer that is no AWS error was, without a byte of it and whatever its headers say:
    ``HTTP 500, 84 bytes`` (the length as the answer announced it)."""
    meta = exc.response.get("ResponseMetadata", {})
    status = _http_status(exc) or "?"
    length = str((meta.get("HTTPHeaders") or {}).get("content-length", ""))
    return f"HTTP {status}, {length} bytes" if length.isdigit() else f"HTTP {status}"


@record(frozen=True)
class NetworkFailure:
    """Why a request got no answer, in words that quote nothing the endpoint sent."""

    endpoint: str
    #: "connection refused", "DNS lookup failed", "TLS error: CERTIFICATE_VERIFY_FAILED", "no answer in time"...
    reason: str
    #: True when no connection was made at all (the endpoint is wrong or down), False when one was.
    connecting: bool

    def __str__(self) -> str:
        if self.connecting:
            return f"cannot connect to {self.endpoint} ({self.reason})"
        return f"lost the connection to {self.endpoint} ({self.reason})"


def _os_error(exc: BaseException) -> BaseException | None:
    """The OS or TLS error under botocore's and urllib3's wrappers, if any."""
    import socket
    import ssl

    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ssl.SSLError | socket.gaierror) or (isinstance(e, OSError) and e.errno is not None):
            return e
        kwargs = getattr(e, "kwargs", None)
        todo += [kwargs.get("error") if isinstance(kwargs, dict) else None, e.__cause__, e.__context__]
        todo += [a for a in getattr(e, "args", ()) if isinstance(a, BaseException)]
    return None


def network_failure(exc: BaseException, endpoint: str) -> NetworkFailure | None:
    """A connection, DNS, TLS or time-out failure as one short reason; None for any other exception."""
    import socket
    import ssl

    from botocore import exceptions as bx

    if isinstance(exc, bx.ReadTimeoutError):
        return NetworkFailure(endpoint, "no answer in time", False)
    if isinstance(exc, bx.ConnectionClosedError):
        return NetworkFailure(endpoint, "closed before an answer", False)
    if not isinstance(exc, bx.ConnectionError | bx.HTTPClientError):
        return None
    cause = _os_error(exc)
    if isinstance(exc, bx.SSLError) or isinstance(cause, ssl.SSLError):
        reason = getattr(cause, "reason", None)
        return NetworkFailure(endpoint, f"TLS error{f': {reason}' if reason else ''}", True)
    if isinstance(exc, bx.ConnectTimeoutError):
        return NetworkFailure(endpoint, "connection timed out", True)
    if isinstance(exc, bx.ProxyConnectionError):
        return NetworkFailure(endpoint, "the proxy refused or failed", True)
    if isinstance(cause, socket.gaierror) or type(cause).__name__ == "NameResolutionError":
        return NetworkFailure(endpoint, "DNS lookup failed", True)
    if isinstance(cause, ConnectionRefusedError):
        return NetworkFailure(endpoint, "connection refused", True)
    if isinstance(cause, OSError) and cause.errno is not None:
        return NetworkFailure(endpoint, os.strerror(cause.errno).lower(), isinstance(exc, bx.EndpointConnectionError))
    return NetworkFailure(endpoint, "connection failed", isinstance(exc, bx.EndpointConnectionError))


class _LastFailures:
    """The last failed try per endpoint, from botocore's retry hook: when the deadline ends a fetch that was
    still being retried, its message names what went wrong rather than only the clock. Process-wide, as the
    deadline is."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_endpoint: dict[str, NetworkFailure | str] = {}

    def record(self, *, endpoint: Any = None, response: Any = None, caught_exception: Any = None, **_: Any) -> None:
        """botocore's ``needs-retry`` event, after every try: remember a failure, forget it on an answer."""
        where = str(getattr(endpoint, "host", "") or "the AWS endpoint")
        failure: NetworkFailure | str | None = None
        if caught_exception is not None:
            failure = network_failure(caught_exception, where) or f"{where} failed ({type(caught_exception).__name__})"
        elif response is not None and int(getattr(response[0], "status_code", 200)) >= 300:
            from botocore.exceptions import ClientError

            error = ClientError(response[1] if isinstance(response[1], dict) else {}, "request")
            known = aws_error(error)
            failure = f"{where} answered {known[0] if known else raw_answer(error)}"
        with self._lock:
            if failure is None:
                self._by_endpoint.pop(where, None)
            else:
                self._by_endpoint[where] = failure

    def set(self, where: str, failure: NetworkFailure | str | None) -> None:
        """Remember ``where``'s failure, or forget it (None), for a request botocore does not send (the agent's)."""
        with self._lock:
            if failure is None:
                self._by_endpoint.pop(where, None)
            else:
                self._by_endpoint[where] = failure

    def clear(self) -> None:
        with self._lock:
            self._by_endpoint.clear()

    def get(self) -> list[NetworkFailure | str]:
        """Each endpoint's last failure, if its last try failed: a NetworkFailure, or what it answered."""
        with self._lock:
            return list(self._by_endpoint.values())


LAST_FAILURES = _LastFailures()


def client_endpoint(client: Any) -> str:
    try:
        return str(client.meta.endpoint_url)
    except AttributeError:
        return "the AWS endpoint"


def _region(client: Any) -> str:
    try:
        return str(client.meta.region_name)
    except AttributeError:
        return "the configured region"


def translate(exc: BaseException, what: str, client: Any, action: str) -> EnvinjectError:
    """Turn a botocore exception into one line naming ``what`` was read (``secret 'APIKEYS'``), the cause and a
    fix. No value is in it: AWS error messages name resources and actions, and raw bodies are never shown."""
    if isinstance(exc, EnvinjectError):
        return exc
    from botocore import exceptions as bx
    from botocore.parsers import ResponseParserError

    s = what
    if isinstance(exc, bx.ClientError):
        known = aws_error(exc)
        # No error document: only the status speaks (a 403 is a denial), never a code a header or body chose.
        code, msg = known or (_http_status(exc), "")
        if known is None and code not in _DENIED:
            return FetchError(
                f"{client_endpoint(client)} answered the request for {s} with something that is not an AWS error "
                f"({raw_answer(exc)})",
                hint="check --endpoint-url and any proxy in between",
                code=code,
            )
        return answered_error(code, msg, s, f"in {_region(client)}", action)
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return FetchError(
            f"no AWS credentials were found to {_verb(action)} {s}",
            hint="set AWS_PROFILE, run aws sso login / aws configure, or set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY",
            code="NoCredentials",
        )
    if isinstance(exc, bx.NoRegionError):
        return FetchError("no AWS region is set", hint="pass --region or set AWS_REGION", code="NoRegion")
    if isinstance(exc, bx.ReadTimeoutError):
        return FetchError(
            f"timed out talking to {client_endpoint(client)} for {s}",
            hint="check the network, VPC endpoint or --endpoint-url; --timeout sets the limit",
            code="Timeout",
        )
    failure = network_failure(exc, client_endpoint(client))
    if failure is not None:
        return FetchError(
            f"{failure} to read {s}",
            hint="check the network, proxy, VPC endpoint or --endpoint-url",
            code="Unreachable",
        )
    if isinstance(exc, bx.ParamValidationError):
        return FetchError(f"{s} is not a valid name for AWS", hint="check the name or ARN", code="BadId")
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
            f"{client_endpoint(client)} sent a response for {s} that could not be read",
            hint="check --endpoint-url and any proxy in between",
            code="BadResponse",
        )
    return FetchError(
        f"could not read {s}: unexpected {type(exc).__name__}", hint="report it if it persists", code=type(exc).__name__
    )


def answered_error(code: str, msg: str, what: str, where: str, action: str, *, by: str = "") -> FetchError:
    """What an AWS error answer to a request for ``what`` means, in one line: the same whoever passed it on. ``where``
    says where it was looked for (``in eu-west-1``); ``by`` names who answered, when not AWS itself (the local
    agent), and ends every message. ``msg`` is AWS's own message, shown only for a code without a meaning here."""
    s = what
    if code in NOT_FOUND:
        return FetchError(
            f"{s} was not found {where}{by}",
            hint="check the name, or --region if it lives in another region",
            code=code,
            kind="not_found",
        )
    if code in _DENIED or code in ("DecryptionFailure", "KMSAccessDeniedException"):
        needed = denied_action(code, msg, action)
        caller, grantee = ("the agent's role", " to the agent's role") if by else ("the caller", "")
        return FetchError(
            f"access denied to {s}: {caller} lacks {needed}{by}",
            hint=f"allow {needed} on {'its key' if needed == KMS_DECRYPT else 'it'}{grantee} "
            "(envinject policy prints the policy)",
            code=code,
            denied_action=needed,
        )
    if code in _BAD_CREDENTIALS:
        return FetchError(
            f"AWS rejected the credentials while reading {s} ({code}){by}",
            hint="refresh them (aws sso login, or new access keys) or check AWS_PROFILE",
            code=code,
        )
    if code == "InvalidRequestException" and "delet" in msg.lower():
        return FetchError(
            f"{s} is scheduled for deletion{by}",
            hint="restore it with: aws secretsmanager restore-secret --secret-id NAME",
            code=code,
        )
    if code in THROTTLED:
        return FetchError(
            f"AWS throttled the request for {s} and retries ran out{by}",
            hint="try again, or lower the request rate",
            code=code,
        )
    return FetchError(f"AWS refused to give {s}: {code}{': ' + _one_line(msg) if msg else ''}{by}", code=code)


def _verb(action: str) -> str:
    """What a request does to what it names, by its IAM action: ``secretsmanager:DescribeSecret`` describes."""
    operation = action.rpartition(":")[2]
    for prefix, verb in (("Describe", "describe"), ("List", "list"), ("Put", "write"), ("Create", "create")):
        if operation.startswith(prefix):
            return verb
    return "read"


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
