"""The local Secrets Manager agent: GetSecretValue answered on this machine from the agent's in-memory cache.

Three AWS programs answer the same request: the AWS Secrets Manager Agent (``aws-workload-credentials-provider``),
the Parameters and Secrets Lambda extension, and the Systems Manager Cloud Extensions endpoint::

    GET /secretsmanager/get?secretId=ID[&versionId=V][&versionStage=S][&refreshNow=true]
    X-Aws-Parameters-Secrets-Token: TOKEN

The answer is GetSecretValue's JSON; Secrets Manager's own errors come back as ``{"__type": CODE, "message": …}``
with status 400; a bad token is 403, too many connections 429, and the agent's own trouble 5xx.

A fleet that reads through it costs the account one call per secret and cache period instead of one per start,
and a start that reads only through it loads no botocore: no credentials to find, no client to build. What it
cannot serve goes to the API: Parameter Store, prefix and tag selections, and an ARN of another region (the agent
reads one region). Nothing here imports botocore.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import quote, urlsplit

from ..errors import ConfigError, EnvinjectError, FetchError
from ..records import field, record
from ..rules.payload import Payload
from ..rules.refs import Locator, is_secret_name
from . import RequestCount, Source, all_or_nothing, each_concurrently
from .aws import ERROR_CODE, LAST_FAILURES, NetworkFailure, answered_error
from .loopback import LoopbackError, get
from .secretsmanager import secret_what, version_missing

#: ``--via``: ``auto`` uses the agent when one is installed (a token is there), ``agent`` always, ``api`` never.
VIAS = ("auto", "agent", "api")
DEFAULT_URL = "http://localhost:2773"
#: Where the agent's install script writes its token (readable by the group it creates).
TOKEN_FILE = "/var/run/awssmatoken"
#: The header the agent and the Lambda extension read the token from.
TOKEN_HEADER = "X-Aws-Parameters-Secrets-Token"
#: The port the Lambda extension listens on unless PARAMETERS_SECRETS_EXTENSION_HTTP_PORT says otherwise.
LAMBDA_PORT = 2773
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
_GET = "secretsmanager:GetSecretValue"
_MAX_WORKERS = 8
#: A connection on this machine is made at once, or refused at once when nothing listens. It waits only when the
#: listener's backlog is full (a fleet starting together): then the kernel tries again at 1 s and 3 s.
_CONNECT_SECONDS = 4.0
#: Under auto, how long an answer may take before the API is asked instead (the agent asks AWS on a cache miss).
_AUTO_ANSWER_SECONDS = 10.0


@record(frozen=True)
class Agent:
    """An agent to read through: where it listens, the token it wants, and whether it must answer (``--via agent``)
    or may be passed over for the API (``auto``)."""

    url: str
    host: str
    port: int
    token: str = field(repr=False)
    #: Where the token came from, for -v and messages: "AWS_TOKEN", "/var/run/awssmatoken".
    token_from: str
    required: bool


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine: ``localhost``, ``::1`` or an address in 127.0.0.0/8."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    parts = host.split(".")
    return len(parts) == 4 and parts[0] == "127" and all(p.isdigit() and int(p) < 256 for p in parts)


def parse_url(url: str) -> tuple[str, int] | None:
    """The host and port of an agent URL: ``http://`` to this machine with nothing after the port; None for
    anything else (another machine would see the token; https would need ssl; a path is never the agent's)."""
    if any(c.isspace() or not c.isprintable() for c in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if parts.scheme != "http" or not host or not is_loopback(host) or parts.username or parts.password:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or url.endswith(("?", "#")):
        return None
    return host, port or 80


def _checked_token(token: str, origin: str) -> str:
    """A token as a header can carry it: visible ASCII, at most 4096 characters. Never shown."""
    if not token or len(token) > 4096 or not all("!" <= c <= "~" for c in token):
        raise ConfigError(
            f"the agent token in {origin} is not a token a header can carry (visible ASCII, up to 4096 characters)",
            hint="it should be the agent's own token, e.g. AWS_TOKEN=file:///var/run/awssmatoken",
        )
    return token


def find_token(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """The agent's token and where it was found, as the agent finds its own: ``AWS_TOKEN``, a value or
    ``file://PATH``; else the file the agent's installer writes, when it is readable. None when neither is there.
    A token that cannot be read or carried is a ConfigError."""
    value = environ.get("AWS_TOKEN")
    if value:
        if not value.startswith("file://"):
            return _checked_token(value, "AWS_TOKEN"), "AWS_TOKEN"
        path = value[len("file://") :]
        where = f"the file AWS_TOKEN names ({path[:200]!r})"
        try:
            return _checked_token(_read_token(path), where), where
        except (OSError, UnicodeDecodeError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else "not ASCII text"
            raise ConfigError(f"cannot read {where}: {reason}", hint="check AWS_TOKEN, or pass --via api") from None
    if os.access(TOKEN_FILE, os.R_OK):
        try:
            text = _read_token(TOKEN_FILE)
        except (OSError, UnicodeDecodeError):
            return None
        return _checked_token(text, TOKEN_FILE), TOKEN_FILE
    return None


def _read_token(path: str) -> str:
    with open(path, "rb") as f:
        return f.read(8192).decode("ascii").strip()


def _lambda_token(environ: Mapping[str, str], port: int) -> tuple[str, str] | None:
    """Inside Lambda, the extension's token is the function's session token: sent only to the port the extension
    was configured on, never to another."""
    token = environ.get("AWS_SESSION_TOKEN")
    if not (environ.get("AWS_LAMBDA_RUNTIME_API") and token):
        return None
    configured = environ.get("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", str(LAMBDA_PORT))
    if not configured.isdigit() or int(configured) != port:
        return None
    return _checked_token(token, "AWS_SESSION_TOKEN"), "AWS_SESSION_TOKEN (the Lambda extension's token)"


def choose(via: str, url: str, environ: Mapping[str, str], note: Callable[[str], None]) -> Agent | None:
    """The agent a command reads through, or None for the API. ``api``: none. ``agent``: the one at ``url``, with
    the token found, else a ConfigError. ``auto``: the one at ``url`` only when a token says an agent is installed
    (``AWS_TOKEN``, or the installer's token file); no probe, so a machine without one pays nothing."""
    if via == "api":
        return None
    where = parse_url(url)
    if where is None:  # validate refuses it first; this keeps a token from going anywhere else regardless
        raise ConfigError("the agent URL must be http:// to this machine", hint=f"for example {DEFAULT_URL}")
    host, port = where
    if via == "auto":
        try:
            found = find_token(environ)
        except ConfigError as e:
            note(f"agent: not used, {e.message}")
            return None
        if found is None:
            return None
        return Agent(url.rstrip("/"), host, port, found[0], found[1], required=False)
    found = find_token(environ) or _lambda_token(environ, port)
    if found is None:
        raise ConfigError(
            "--via agent needs the agent's token, and none was found",
            hint=f"set AWS_TOKEN (a token, or file:///PATH) as the agent has it; its installer writes {TOKEN_FILE}",
        )
    return Agent(url.rstrip("/"), host, port, found[0], found[1], required=True)


def not_served(loc: Locator, region: str | None) -> str | None:
    """Why the agent cannot serve ``loc`` (so it goes to the API), or None when it can."""
    if loc.backend != "sm":
        return "Parameter Store"
    if loc.is_selection:
        return "a selection by name prefix or tag"
    if loc.region is not None and loc.region != region:
        return "an ARN in another region" if region else "an ARN, and no region is set to match it with the agent's"
    return None


class AgentUnavailable(FetchError):
    """The agent did not answer: no connection, no answer in time, too busy (429) or in trouble (5xx). Under
    ``auto`` the API is asked instead."""


class AgentSource:
    """Secrets Manager through the agent. ``refresh``: every request asks it to skip its cache (``refreshNow``), as
    the watcher's polls must, to see a rotation before the cache period ends."""

    def __init__(self, agent: Agent, *, timeout: float, refresh: bool = False) -> None:
        self.agent = agent
        self.refresh = refresh
        self.requests = RequestCount()
        self._answer_seconds = timeout if agent.required else min(timeout, _AUTO_ANSWER_SECONDS)
        self._by = f" (answered by the Secrets Manager agent at {agent.url})"

    def fetch_many(self, locators: Sequence[Locator]) -> Mapping[Locator, Payload]:
        return all_or_nothing(self.fetch_each(locators))

    def fetch_each(self, locators: Sequence[Locator]) -> dict[Locator, Payload | EnvinjectError]:
        return each_concurrently(self.fetch_one, locators, _MAX_WORKERS)

    def kms_keys_of(self, locator: Locator) -> list[str]:
        raise ConfigError("the agent answers GetSecretValue only", hint="policy asks the API for a secret's key")

    def fetch_one(self, loc: Locator) -> Payload:
        what = secret_what(loc)
        status, body = self._get(loc, what)
        if status == 200:
            return self._payload(body, what)
        if status == 400:
            error = self._aws_error(body)
            if error is None:
                raise FetchError(f"{self.agent.url} refused the request for {what} (HTTP 400, {len(body)} bytes)",
                                 hint="check the name; is it the Secrets Manager agent?", code="400")  # fmt: skip
            err = answered_error(*error, what, "in the agent's region", _GET, by=self._by)
            if err.kind == "not_found" and loc.versioned:
                raise self._version_missing(loc) or err
            raise err
        if status == 403:
            raise FetchError(
                f"the Secrets Manager agent at {self.agent.url} refused the token from {self.agent.token_from} "
                f"(HTTP 403) for {what}",
                hint="give envinject the token the agent has (AWS_TOKEN), or pass --via api",
                code="AgentToken",
            )
        if status == 429 or status >= 500:
            reason = "too many connections" if status == 429 else "its own failure"
            raise AgentUnavailable(
                f"the Secrets Manager agent at {self.agent.url} could not answer for {what} (HTTP {status}, {reason})",
                hint="check the agent's log, or pass --via api",
                code=f"Agent{status}",
            )
        raise FetchError(
            f"{self.agent.url} answered the request for {what} with HTTP {status}, which the Secrets Manager agent "
            "never does",
            hint="check --agent-url: is the agent listening there?",
            code=str(status),
        )

    def _get(self, loc: Locator, what: str) -> tuple[int, bytes]:
        query = [("secretId", loc.secret_id), ("versionId", loc.version_id), ("versionStage", loc.version_stage)]
        target = "/secretsmanager/get?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query if v is not None)
        if self.refresh:
            target += "&refreshNow=true"
        self.requests.add("agent GetSecretValue")
        try:
            answer = get(self.agent.host, self.agent.port, target, {TOKEN_HEADER: self.agent.token},
                         connect_timeout=min(_CONNECT_SECONDS, self._answer_seconds),
                         timeout=self._answer_seconds)  # fmt: skip
        except LoopbackError as e:
            failure = NetworkFailure(f"the Secrets Manager agent at {self.agent.url}", e.reason, e.connecting)
            LAST_FAILURES.set(self.agent.url, failure)
            raise AgentUnavailable(f"{failure} to read {what}", hint="start the agent, or pass --via api",
                                   code="Unreachable") from None  # fmt: skip
        LAST_FAILURES.set(self.agent.url, None)
        return answer.status, answer.body

    def _aws_error(self, body: bytes) -> tuple[str, str] | None:
        """The code and message of an AWS error the agent passed on, or None when the body is no such document."""
        try:
            doc = json.loads(body)
        except ValueError:
            return None
        if not isinstance(doc, dict) or not isinstance(doc.get("__type"), str):
            return None
        code = doc["__type"].rpartition("#")[2]
        message = doc.get("message", doc.get("Message", ""))
        return (code, message if isinstance(message, str) else "") if ERROR_CODE.fullmatch(code) else None

    def _payload(self, body: bytes, what: str) -> Payload:
        """GetSecretValue's answer, each field of the type AWS gives it; anything else is a bad answer, never a
        value (an answer without one is not an empty secret)."""
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            text, binary = doc.get("SecretString"), doc.get("SecretBinary")
            version, arn, name = doc.get("VersionId"), doc.get("ARN"), doc.get("Name")
            typed = all(x is None or isinstance(x, str) for x in (text, binary, version, arn, name))
            if typed and (text is not None or binary is not None) and (name is None or is_secret_name(name)):
                decoded = _base64(binary) if isinstance(binary, str) else None
                if binary is None or decoded is not None:
                    return Payload(text=text, binary=decoded, version_id=version, arn=arn)
        raise FetchError(
            f"the Secrets Manager agent at {self.agent.url} answered for {what} with something that is not a "
            f"secret ({len(body)} bytes)",
            hint="try again; check --agent-url",
            code="BadResponse",
        )

    def _version_missing(self, loc: Locator) -> FetchError | None:
        """As the API path says it: the version is missing, not the secret, when the secret itself is there."""
        try:
            self.fetch_one(Locator(loc.secret_id))
        except EnvinjectError:
            return None
        return version_missing(loc, "in the agent's region", by=self._by)

    def ping(self) -> str:
        """What ``GET /ping`` answered (the agent says "healthy"), in words that quote nothing it sent."""
        try:
            answer = get(self.agent.host, self.agent.port, "/ping", {}, connect_timeout=min(_CONNECT_SECONDS, 2.0),
                         timeout=min(self._answer_seconds, 5.0))  # fmt: skip
        except LoopbackError as e:
            return e.reason
        if answer.status == 200 and answer.body.strip() == b"healthy":
            return "healthy"
        return f"HTTP {answer.status}, {len(answer.body)} bytes"


def _base64(text: str) -> bytes | None:
    import base64
    import binascii

    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


class ThroughAgent:
    """Secrets Manager for a command that has an agent: what the agent serves from it, the rest from the API
    (built only if something needs it, so a start that the agent serves whole loads no botocore). Under ``auto``,
    a secret the agent could not answer for (no connection, 429, 5xx) is read from the API within the same
    deadline; an answer (a 400 or a 403) stands."""

    def __init__(
        self, agent: AgentSource, api: Callable[[], Source], region: str | None, note: Callable[[str], None]
    ) -> None:
        self.agent = agent
        self._api_factory = api
        self._api: Source | None = None
        self._region = region
        self._note = note
        #: How many secrets the agent answered for (a value or an error of its own), and how many it could not.
        self.answered = 0
        self.passed_over = 0

    def _api_source(self) -> Source:
        if self._api is None:
            self._api = self._api_factory()
        return self._api

    @property
    def requests(self) -> dict[str, int]:
        counted = dict(self.agent.requests)
        for op, n in (self._api.requests if self._api is not None else {}).items():
            counted[op] = counted.get(op, 0) + n
        return counted

    def _split(self, locators: Sequence[Locator]) -> tuple[list[Locator], list[Locator]]:
        served, rest = [], []
        for loc in locators:
            reason = not_served(loc, self._region)
            if reason is None:
                served.append(loc)
            else:
                rest.append(loc)
                self._note(f"agent: {loc.describe()} is read from the API ({reason})")
        return served, rest

    def _from_agent(self, served: list[Locator]) -> tuple[dict[Locator, Payload | EnvinjectError], list[Locator]]:
        """The agent's results, and the secrets to ask the API for instead (under auto, those it could not
        answer for)."""
        results = self.agent.fetch_each(served) if served else {}
        fallen = [loc for loc, r in results.items() if isinstance(r, AgentUnavailable)]
        self.answered += len(results) - len(fallen)
        self.passed_over += len(fallen)
        if fallen and not self.agent.agent.required:
            first = results[fallen[0]]
            message = first.message if isinstance(first, EnvinjectError) else str(first)
            self._note(f"agent: {message}; reading {len(fallen)} secret(s) from the API instead")
            for loc in fallen:
                del results[loc]
            return results, fallen
        return results, []

    def fetch_each(self, locators: Sequence[Locator]) -> dict[Locator, Payload | EnvinjectError]:
        served, rest = self._split(locators)
        results, fallen = self._from_agent(served)
        if rest or fallen:
            results.update(self._api_source().fetch_each([*rest, *fallen]))
        return {loc: results[loc] for loc in locators}

    def fetch_many(self, locators: Sequence[Locator]) -> Mapping[Locator, Payload]:
        served, rest = self._split(locators)
        results, fallen = self._from_agent(served)
        found = all_or_nothing(results)
        if rest or fallen:
            found.update(self._api_source().fetch_many([*rest, *fallen]))
        return {loc: found[loc] for loc in locators}

    def kms_keys_of(self, locator: Locator) -> list[str]:
        return self._api_source().kms_keys_of(locator)

    @property
    def url(self) -> str:
        return self.agent.agent.url

    def report(self) -> str:
        """For check: where the agent is, whether it answers, and for how many secrets it did."""
        agent = self.agent.agent
        over = f", and could not for {self.passed_over} (read from the API)" if self.passed_over else ""
        return (
            f"{agent.url} ({self.agent.ping()}), token from {agent.token_from}: answered for {self.answered} "
            f"secret(s){over}"
        )


def unused(via: str) -> str:
    """For check: why no agent was used."""
    if via == "api":
        return "not used (--via api)"
    return f"none found (no AWS_TOKEN, and {TOKEN_FILE} is not readable): every secret is read from the API"
