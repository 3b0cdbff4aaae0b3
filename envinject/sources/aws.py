"""Building botocore clients. botocore is imported here, when a client is first needed, and nowhere at start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..errors import ConfigError


@dataclass(frozen=True)
class AwsSettings:
    """Connection settings from the command line; None means the standard AWS chain decides."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    #: The whole fetch's deadline; each connection and read gets a share of it.
    timeout: float = 30.0
    max_attempts: int = 20


class ClientFactory:
    """One botocore session, one client per (service, region), built on first use and reused."""

    def __init__(self, settings: AwsSettings | None = None, environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings or AwsSettings()
        self._environ = os.environ if environ is None else environ
        self._session: Any = None
        self._clients: dict[tuple[str, str, bool], Any] = {}

    def _get_session(self) -> Any:
        if self._session is None:
            import botocore.session

            self._session = botocore.session.Session(profile=self.settings.profile)
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
            hint="check --profile / AWS_PROFILE against ~/.aws/config",
        )

    def client(self, service: str, region: str | None = None, *, retries: bool = True) -> Any:
        """A client for ``service`` in ``region`` (the default region when None).

        ``retries=False`` gives a client that tries once, for calls that have a cheaper fallback.
        """
        region = region or self.default_region()
        key = (service, region, retries)
        if key not in self._clients:
            from botocore.config import Config
            from botocore.exceptions import ProfileNotFound

            config = Config(
                # A dead endpoint fails a connection fast; a hung one a read. Both leave time for retries.
                connect_timeout=min(self.settings.timeout, 3.0),
                read_timeout=min(self.settings.timeout, 10.0),
                # total_max_attempts counts the first try; botocore's max_attempts would count retries only.
                retries={"mode": "standard", "total_max_attempts": self.settings.max_attempts if retries else 1},
                user_agent_extra=f"envinject/{__version__}",
            )
            try:
                self._clients[key] = self._get_session().create_client(
                    service, region_name=region, endpoint_url=self.settings.endpoint_url, config=config
                )
            except ProfileNotFound:
                raise self._profile_missing() from None
        return self._clients[key]
