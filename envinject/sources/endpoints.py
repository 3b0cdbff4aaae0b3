"""Which endpoint a request to an AWS service goes to. The client that sends the request and the message that
names where it went both ask :func:`endpoint`, so the two cannot disagree. No botocore here: a message written
when the deadline passes must not wait for it to load."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from ..records import record

#: The variable that sets one service's endpoint alone (botocore's service names), before AWS_ENDPOINT_URL, for the
#: services envinject talks to.
SERVICE_VARIABLES = {
    "secretsmanager": "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "ssm": "AWS_ENDPOINT_URL_SSM",
    "sts": "AWS_ENDPOINT_URL_STS",
    "kms": "AWS_ENDPOINT_URL_KMS",
}
#: Every service's endpoint, where the service's own variable is not set.
EVERY_SERVICE_VARIABLE = "AWS_ENDPOINT_URL"
#: "true" makes the AWS SDKs ignore the endpoints that variables and the AWS config file set, but not one given
#: in code: --endpoint-url, or an envinject.toml's endpoint-url.
IGNORE_VARIABLE = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"


class EndpointSettings(Protocol):
    """What :func:`endpoint` reads of the settings (envinject's, or the client factory's)."""

    @property
    def endpoint_url(self) -> str | None: ...

    @property
    def service_endpoints(self) -> tuple[tuple[str, str], ...]: ...


@record(frozen=True)
class Endpoint:
    url: str
    #: False for AWS's own endpoint: the client is left to find it, since botocore knows partitions, FIPS,
    #: dual-stack and the endpoints an AWS config file sets, which ``url`` does not account for.
    configured: bool


def variables_ignored(environ: Mapping[str, str]) -> bool:
    """Whether AWS_IGNORE_CONFIGURED_ENDPOINT_URLS turns the endpoint variables off (as botocore reads it)."""
    return environ.get(IGNORE_VARIABLE, "").lower() == "true"


def endpoint(service: str, region: str, settings: EndpointSettings, environ: Mapping[str, str]) -> Endpoint:
    """Where a request to ``service`` in ``region`` goes: the settings' endpoint for that service, else their
    endpoint for every service, else the variables' (unless ignored), else AWS's own regional endpoint.

    The variables are read here too, not only by :func:`~envinject.settings.resolve_settings`, because settings
    made without it (push, the Python API) leave them to the client, which reads them this way."""
    url = dict(settings.service_endpoints).get(service) or settings.endpoint_url
    if not url and not variables_ignored(environ):
        own = SERVICE_VARIABLES.get(service)
        url = (environ.get(own) if own else None) or environ.get(EVERY_SERVICE_VARIABLE)
    if url:
        return Endpoint(url, configured=True)
    return Endpoint(f"https://{service}.{region}.amazonaws.com", configured=False)
