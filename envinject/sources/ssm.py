"""AWS Systems Manager Parameter Store. The client is injected; GetParameters (10 names a call), GetParameter
(for a pinned version or label) and GetParametersByPath (recursive, paginated) are called, always with
decryption, so a SecureString arrives as its plain value."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from ..errors import EnvinjectError, FetchError
from ..rules.refs import SSM_SCHEME, Locator
from . import Account, Item, Payload, RequestCount, all_or_nothing
from .aws import client_endpoint, client_error, failure_kind, translate

GET_ONE = "ssm:GetParameter"
GET_MANY = "ssm:GetParameters"
BY_PATH = "ssm:GetParametersByPath"
DESCRIBE = "ssm:DescribeParameters"
#: GetParameters takes at most 10 names; GetParametersByPath returns at most 10 a page.
NAMES_PER_CALL = 10
_MAX_WORKERS = 8
_AWS_KEY = "alias/aws/ssm"

ClientFor = Callable[[str | None], Any]
Results = dict[Locator, Payload | EnvinjectError]


def plain_name(secret_id: str) -> str:
    """The parameter name in a locator: ``arn:...:parameter/app/db`` is ``/app/db``; a name is itself."""
    if not secret_id.startswith("arn:"):
        return secret_id
    rest = secret_id.split(":", 5)[5][len("parameter/") :]
    return "/" + rest if "/" in rest else rest


def _api_path(loc: Locator) -> str:
    """The Path GetParametersByPath takes: ``/app/prod`` for ``/app/prod/``, and ``/`` for the root."""
    return plain_name(loc.secret_id).rstrip("/") or "/"


def _what(loc: Locator) -> str:
    return loc.describe()


def _region_of(client: Any) -> str:
    try:
        return str(client.meta.region_name)
    except AttributeError:
        return "the configured region"


class ParameterStoreSource:
    """Fetches parameters and parameter paths. Unpinned parameters go 10 to a GetParameters call; if that is
    denied (a policy that allows only ssm:GetParameter), each is read with GetParameter instead."""

    def __init__(self, client_for: ClientFor, *, note: Callable[[str], None] | None = None) -> None:
        self._client_for = client_for
        self._note = note or (lambda _msg: None)
        self.requests = RequestCount()

    @classmethod
    def from_client(cls, client: Any, **kwargs: Any) -> ParameterStoreSource:
        """A source that uses one client for every parameter (tests, or one region)."""
        return cls(lambda _region: client, **kwargs)

    def fetch_many(self, locators: Sequence[Locator]) -> Mapping[Locator, Payload]:
        return all_or_nothing(self.fetch_each(locators))

    def fetch_each(self, locators: Sequence[Locator]) -> Results:
        """Each locator's payload or error; the calls run concurrently."""
        tasks: list[Callable[[], Results]] = []
        unpinned: dict[str | None, list[Locator]] = {}
        for loc in dict.fromkeys(locators):
            if loc.is_path:
                tasks.append(partial(self._alone, self._path, loc))
            elif loc.versioned:
                tasks.append(partial(self._alone, self._one, loc))
            else:
                unpinned.setdefault(loc.region, []).append(loc)
        for group in unpinned.values():
            tasks += [partial(self._many, group[i : i + NAMES_PER_CALL]) for i in range(0, len(group), NAMES_PER_CALL)]
        # Build the clients first: a setup failure (no region, an unknown profile) is one error for the call.
        for region in {loc.region for loc in locators}:
            self._client_for(region)
        results: Results = {}
        if len(tasks) == 1:
            results.update(tasks[0]())
        elif tasks:
            from concurrent.futures import ThreadPoolExecutor  # one request needs no thread

            with ThreadPoolExecutor(max_workers=min(_MAX_WORKERS, len(tasks))) as pool:
                for part in pool.map(lambda task: task(), tasks):
                    results.update(part)
        return {loc: results[loc] for loc in locators}

    def _alone(self, fetch: Callable[[Locator], Payload], loc: Locator) -> Results:
        return {loc: self._or_error(fetch, loc)}

    @staticmethod
    def _or_error(fetch: Callable[[Locator], Payload], loc: Locator) -> Payload | EnvinjectError:
        try:
            return fetch(loc)
        except EnvinjectError as e:
            return e

    def _many(self, chunk: list[Locator]) -> Results:
        """Up to 10 parameters in one GetParameters call."""
        client = self._client_for(chunk[0].region)
        self.requests.add("GetParameters")
        try:
            resp = client.get_parameters(Names=[loc.secret_id for loc in chunk], WithDecryption=True)
        except Exception as exc:  # noqa: BLE001 - every failure becomes one clear message
            errors = {loc: translate(exc, _what(loc), client, GET_MANY) for loc in chunk}
            if failure_kind(errors[chunk[0]]) != "denied":
                return dict(errors)
            self._note(f"GetParameters was denied; reading {len(chunk)} parameter(s) with GetParameter instead")
            return {loc: self._or_error(self._one, loc) for loc in chunk}
        found: dict[str, Mapping[str, Any]] = {}
        for param in resp.get("Parameters", []):
            found[str(param.get("Name"))] = param
            found[str(param.get("ARN"))] = param
        invalid = set(resp.get("InvalidParameters", []))
        out: Results = {}
        for loc in chunk:
            if loc.secret_id in found:
                out[loc] = self._or_error(lambda loc: _payload(found[loc.secret_id], loc, client), loc)
            elif loc.secret_id in invalid:
                out[loc] = translate(
                    client_error("ParameterNotFound", "", "GetParameters"), _what(loc), client, GET_MANY
                )
            else:
                out[loc] = _bad_response(loc, client)
        return out

    def _one(self, loc: Locator) -> Payload:
        """One GetParameter call, with the version or label the locator carries."""
        client = self._client_for(loc.region)
        self.requests.add("GetParameter")
        try:
            resp = client.get_parameter(Name=loc.selected, WithDecryption=True)
        except Exception as exc:  # noqa: BLE001 - every failure becomes one clear message
            err = translate(exc, _what(loc), client, GET_ONE)
            raise (self._version_missing(loc, client, err) or err if err.kind == "not_found" else err) from None
        return _payload(resp.get("Parameter") or {}, loc, client)

    def _version_missing(self, loc: Locator, client: Any, err: EnvinjectError) -> FetchError | None:
        """For a version or label that was not found: the error saying so when the parameter itself exists.
        A missing label gets the same code as a missing parameter, so that is asked, with the permission a run
        has (its current version, value unread)."""
        if not loc.versioned:
            return None
        if getattr(err, "code", "") != "ParameterVersionNotFound":
            self.requests.add("GetParameter")
            try:
                client.get_parameter(Name=loc.secret_id, WithDecryption=False)
            except Exception:  # noqa: BLE001 - no better message than the first
                return None
        name = plain_name(loc.secret_id)
        version = f"version {loc.version_id}" if loc.version_id else f"version with label {loc.version_stage!r}"
        return FetchError(
            f"parameter {name!r} has no {version} in {_region_of(client)}",
            hint=f"list its versions and labels with: aws ssm get-parameter-history --name {name}",
            code="ParameterVersionNotFound",
            kind="not_found",
        )

    def _path(self, loc: Locator) -> Payload:
        """Every parameter below a path, recursively, a page of 10 at a time."""
        client = self._client_for(loc.region)
        prefix = _api_path(loc)
        kwargs: dict[str, Any] = {"Path": prefix, "Recursive": True, "WithDecryption": True, "MaxResults": 10}
        params: list[Mapping[str, Any]] = []
        while True:
            self.requests.add("GetParametersByPath")
            try:
                resp = client.get_parameters_by_path(**kwargs)
            except Exception as exc:  # noqa: BLE001 - every failure becomes one clear message
                raise translate(exc, _what(loc), client, BY_PATH) from None
            if "Parameters" not in resp:  # botocore reads a garbled or cut-off body as an empty answer
                raise _bad_response(loc, client)
            params.extend(resp["Parameters"])
            if not resp.get("NextToken"):
                break
            kwargs["NextToken"] = resp["NextToken"]
        if not params:
            raise FetchError(
                f"{_what(loc)} holds no parameters in {_region_of(client)}",
                hint="check the path and --region; a path lists every parameter below it",
                code="ParameterNotFound",
                kind="not_found",
            )
        start = len(prefix) if prefix == "/" else len(prefix) + 1
        items: list[Item] = []
        versions: list[str] = []
        for param in sorted(params, key=lambda p: str(p.get("Name"))):
            name, value = str(param.get("Name")), param.get("Value")
            if value is None or not name.startswith(prefix):
                raise _bad_response(loc, client)
            items.append(Item(tuple(name[start:].split("/")), str(value), SSM_SCHEME + name))
            versions.append(f"{name}:{param.get('Version')}")
        # A path's version changes when any parameter below it changes, appears or goes (for --watch).
        digest = hashlib.sha256("\n".join(versions).encode()).hexdigest()[:16]
        return Payload(version_id=digest, items=tuple(items))

    def kms_keys_of(self, loc: Locator) -> list[str]:
        """The customer-managed keys of the SecureString parameters a locator reads, from DescribeParameters
        (which returns no values); none for AWS's own ``aws/ssm`` key."""
        client = self._client_for(loc.region)
        if loc.is_path:
            filters = [{"Key": "Path", "Option": "Recursive", "Values": [_api_path(loc)]}]
        else:
            filters = [{"Key": "Name", "Option": "Equals", "Values": [plain_name(loc.secret_id)]}]
        keys: list[str] = []
        kwargs: dict[str, Any] = {"ParameterFilters": filters}
        while True:
            try:
                resp = client.describe_parameters(**kwargs)
            except Exception as exc:  # noqa: BLE001 - one clear line
                raise translate(exc, _what(loc), client, DESCRIBE) from None
            for param in resp.get("Parameters", []):
                key = param.get("KeyId")
                if param.get("Type") == "SecureString" and key and not str(key).endswith(_AWS_KEY):
                    keys.append(str(key))
            if not resp.get("NextToken"):
                return list(dict.fromkeys(keys))
            kwargs["NextToken"] = resp["NextToken"]


def _payload(param: Mapping[str, Any], loc: Locator, client: Any) -> Payload:
    """One parameter, named by the last segment of its name. A StringList stays its comma-separated text."""
    value = param.get("Value")
    if value is None:
        raise _bad_response(loc, client)
    name = str(param.get("Name") or plain_name(loc.secret_id))
    return Payload(
        text=str(value),
        version_id=str(param.get("Version")),
        arn=param.get("ARN"),
        items=(Item((name.rsplit("/", 1)[-1],), str(value), SSM_SCHEME + name),),
    )


def _bad_response(loc: Locator, client: Any) -> FetchError:
    """botocore turns a garbled or cut-off body into an answer without the value: an error, never empty."""
    return FetchError(
        f"{client_endpoint(client)} answered for {_what(loc)} without a value (a garbled or cut-off response)",
        hint="try again; check --endpoint-url and any proxy in between",
        code="BadResponse",
    )


def parameter_resources(loc: Locator, where: Account) -> list[str]:
    """The ARNs a read of a parameter or path is authorized against: a parameter's own ARN; for a path, the
    path (GetParametersByPath) and everything below it."""
    if loc.secret_id.startswith("arn:"):
        arn = loc.secret_id.rstrip("/")
    else:
        name = loc.secret_id.rstrip("/")
        arn = f"arn:{where.partition}:ssm:{loc.region or where.region}:{where.account}:parameter"
        arn += name if name.startswith("/") else f"/{name}"
    return [arn, arn + "/*"] if loc.is_path else [arn]


def grants(locators: Sequence[Locator], where: Account) -> list[dict[str, Any]]:
    """The three read actions on exactly the parameters and paths named."""
    resources = sorted({arn for loc in locators for arn in parameter_resources(loc, where)})
    return [{"Sid": "ReadParameters", "Effect": "Allow", "Action": [GET_ONE, GET_MANY, BY_PATH], "Resource": resources}]
