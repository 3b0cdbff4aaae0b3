"""Where a request goes and where a message says it went are one answer: the client is made with the endpoint
that envinject.sources.endpoints names, and the deadline's message names the same one."""

from __future__ import annotations

from pathlib import Path

import pytest

from envinject.configfile import ConfigFile
from envinject.plan import client_factory, run_endpoints
from envinject.settings import Settings, resolve_settings
from envinject.sources.endpoints import EVERY_SERVICE_VARIABLE, IGNORE_VARIABLE, SERVICE_VARIABLES, endpoint

REGION = "eu-west-1"
AWS = {service: f"https://{service}.{REGION}.amazonaws.com" for service in ("secretsmanager", "ssm")}
IGNORED = {IGNORE_VARIABLE: "true", EVERY_SERVICE_VARIABLE: "http://127.0.0.9:1"}

#: (environment, the config file's endpoint-url, where Secrets Manager and SSM requests go)
CASES: dict[str, tuple[dict[str, str], str | None, dict[str, str]]] = {
    "nothing set": ({}, None, AWS),
    "AWS_ENDPOINT_URL": ({EVERY_SERVICE_VARIABLE: "http://127.0.0.1:1"}, None,
                         {"secretsmanager": "http://127.0.0.1:1", "ssm": "http://127.0.0.1:1"}),
    "a service's own variable": ({EVERY_SERVICE_VARIABLE: "http://127.0.0.1:1", SERVICE_VARIABLES["ssm"]:
                                  "http://127.0.0.1:2"}, None,
                                 {"secretsmanager": "http://127.0.0.1:1", "ssm": "http://127.0.0.1:2"}),
    "variables ignored": ({**IGNORED, SERVICE_VARIABLES["ssm"]: "http://127.0.0.9:2"}, None, AWS),
    "variables ignored, in capitals": ({**IGNORED, IGNORE_VARIABLE: "TRUE"}, None, AWS),
    "variables ignored, the config file's kept": (IGNORED, "http://127.0.0.1:3",
                                                  {"secretsmanager": "http://127.0.0.1:3", "ssm": "http://127.0.0.1:3"}),
}  # fmt: skip


def settings_for(how: str, environ: dict[str, str], config_endpoint: str | None) -> Settings:
    """Settings as the CLI resolves them, or as push and the Python API make them (leaving the variables to the
    client)."""
    if how == "resolved":
        config = ConfigFile(Path("envinject.toml"), {"endpoint_url": config_endpoint} if config_endpoint else {})
        return resolve_settings({}, environ, config)
    return Settings(endpoint_url=config_endpoint)


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """The process's environment with no endpoint setting and no AWS config file: botocore reads both."""
    for name in (IGNORE_VARIABLE, EVERY_SERVICE_VARIABLE, *SERVICE_VARIABLES.values()):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return monkeypatch


@pytest.mark.parametrize("how", ["resolved", "made directly"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_client_goes_where_the_message_says(clean: pytest.MonkeyPatch, case: str, how: str) -> None:
    environ, config_endpoint, expected = CASES[case]
    for name, value in environ.items():
        clean.setenv(name, value)
    settings = settings_for(how, environ, config_endpoint)
    factory = client_factory(settings)
    for service, url in expected.items():
        assert endpoint(service, REGION, settings, environ).url == url
        assert factory.client(service, REGION).meta.endpoint_url == url
    named = run_endpoints(Settings(secrets=("APP", "ssm:///app/url"), region=REGION, endpoint_url=settings.endpoint_url,
                                 service_endpoints=settings.service_endpoints), environ)  # fmt: skip
    assert named == " and ".join(dict.fromkeys(expected.values()))


def test_the_deadline_message_does_not_name_an_ignored_endpoint() -> None:
    settings = resolve_settings({"secrets": ("APP",), "region": REGION}, IGNORED)
    assert "127.0.0.9" not in run_endpoints(settings, IGNORED)
    assert run_endpoints(settings, IGNORED) == AWS["secretsmanager"]
