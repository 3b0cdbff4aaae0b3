"""The narrow loader gives every client the endpoint, signing region and errors a stock botocore client gets,
and its endpoints cache is rebuilt whenever it cannot be trusted. No request leaves the process: each call is
stopped in before-send, after botocore has resolved the endpoint and signed the request."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.config import Config

from envinject.sources.loader import SERVICES, NarrowLoader, cache_dir, use_narrow_loader

pytestmark = pytest.mark.slow  # stock and narrow botocore sessions compared over regions

REGIONS = [
    "us-east-1", "eu-west-1", "ap-southeast-5", "us-gov-west-1", "cn-north-1", "us-iso-east-1", "us-isob-east-1",
    "eu-isoe-west-1", "aws-global", "mars-east-7",
]  # fmt: skip
CALLS = {
    "secretsmanager": ("get_secret_value", {"SecretId": "APIKEYS"}),
    "ssm": ("get_parameter", {"Name": "/app/db"}),
    "sts": ("get_caller_identity", {}),
    "kms": ("describe_key", {"KeyId": "alias/app"}),
}
_SCOPE = re.compile(r"Credential=[^/]+/\d+/([^/]+)/([^/]+)/aws4_request")
#: Endpoint settings that a stock client reads from the environment or the config file.
ENVIRONMENTS: dict[str, dict[str, str]] = {
    "plain": {},
    "fips and dual-stack from the environment": {"AWS_USE_FIPS_ENDPOINT": "true", "AWS_USE_DUALSTACK_ENDPOINT": "true"},
    "AWS_ENDPOINT_URL": {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"},
    "per-service endpoint variables": {
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": "https://sm.internal.example",
        "AWS_ENDPOINT_URL_SSM": "https://ssm.internal.example:8443",
    },
    "endpoint variables ignored": {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
    },
    "legacy STS endpoints": {"AWS_STS_REGIONAL_ENDPOINTS": "legacy"},
}  # fmt: skip
CONFIG_FILE = """\
[default]
endpoint_url = http://localhost:9000
services = local

[services local]
secrets_manager =
  endpoint_url = https://secrets.config.example
kms =
  endpoint_url = https://kms.config.example
"""


class _Sent(Exception):
    pass


def _observe(session: Any, service: str, region: str, config: Config | None = None) -> tuple[str, ...]:
    """What a call would send: (URL, signing region, signing service), or the error botocore raises first
    (when the client is made, or when the call resolves its endpoint)."""
    seen: list[tuple[str, ...]] = []
    try:
        client = session.create_client(service, region_name=region, config=config)
    except Exception as e:  # noqa: BLE001 - the stock session must fail the same way
        return ("error", type(e).__name__, str(e))

    def capture(request: Any, **_: Any) -> None:
        scope = _SCOPE.search(request.headers.get("Authorization", b"").decode())
        seen.append((request.url, *(scope.groups() if scope else ("unsigned",))))
        raise _Sent

    client.meta.events.register("before-send", capture)
    operation, params = CALLS[service]
    try:
        getattr(client, operation)(**params)
    except _Sent:
        return seen[0]
    except Exception as e:  # noqa: BLE001 - the stock client must fail the same way
        return ("error", type(e).__name__, str(e))
    raise AssertionError("the call was not stopped before sending")


def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, extra: dict[str, str]) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    for k, v in extra.items():
        monkeypatch.setenv(k, v)


def _sessions(cache: Path) -> tuple[Any, Any]:
    stock = botocore.session.Session()
    narrow = botocore.session.Session()
    use_narrow_loader(narrow, {"XDG_CACHE_HOME": str(cache)})
    return stock, narrow


def _compare(stock: Any, narrow: Any, regions: list[str]) -> int:
    compared = 0
    for region in regions:
        for service in CALLS:
            for fips in (False, True):
                for dualstack in (False, True):
                    config = Config(use_fips_endpoint=fips, use_dualstack_endpoint=dualstack)
                    a = _observe(stock, service, region, config)
                    b = _observe(narrow, service, region, config)
                    assert b == a, (region, service, fips, dualstack)
                    compared += 1
    return compared


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_same_endpoint_and_signing_as_a_stock_client(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _clean_env(monkeypatch, tmp_path, ENVIRONMENTS[name])
    cache = tmp_path / "cache"
    stock, narrow = _sessions(cache)
    assert _compare(stock, narrow, REGIONS) == len(REGIONS) * len(CALLS) * 4
    assert narrow.get_component("data_loader").endpoints_from == "rebuilt"
    # A second start reads the cached copy and still agrees.
    stock, narrow = _sessions(cache)
    _compare(stock, narrow, REGIONS[:3])
    assert narrow.get_component("data_loader").endpoints_from == "cache"


def test_config_file_endpoints_match(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(CONFIG_FILE)
    _clean_env(monkeypatch, tmp_path, {"AWS_CONFIG_FILE": str(config)})
    stock, narrow = _sessions(tmp_path / "cache")
    _compare(stock, narrow, ["us-east-1", "us-gov-west-1"])
    assert _observe(narrow, "secretsmanager", "us-east-1")[0] == "https://secrets.config.example/"


def test_a_data_path_override_is_read_and_cached_apart(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """AWS_DATA_PATH may hold an endpoints.json of its own: the narrow loader reads that one, like botocore."""
    data = tmp_path / "models"
    data.mkdir()
    builtin = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    for partition in builtin["partitions"]:
        if partition["partition"] == "aws":
            partition["regions"]["xx-test-1"] = {"description": "a region only this data file knows"}
            partition["services"]["secretsmanager"]["endpoints"]["xx-test-1"] = {}
    (data / "endpoints.json").write_text(json.dumps(builtin))
    _clean_env(monkeypatch, tmp_path, {"AWS_DATA_PATH": str(data)})
    cache = tmp_path / "cache"
    stock, narrow = _sessions(cache)
    _compare(stock, narrow, ["us-east-1", "xx-test-1"])
    assert len(list((cache / "envinject").glob("endpoints-*.json"))) == 1
    _clean_env(monkeypatch, tmp_path, {})
    stock, narrow = _sessions(cache)
    _compare(stock, narrow, ["us-east-1"])
    assert len(list((cache / "envinject").glob("endpoints-*.json"))) == 2  # one per data file


def test_services_outside_the_list_load_the_stock_way(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _clean_env(monkeypatch, tmp_path, {})
    stock, narrow = _sessions(tmp_path / "cache")
    _compare(stock, narrow, ["eu-west-1"])  # the trimmed data is in use
    for region in ("us-east-1", "eu-west-1", "cn-north-1", "aws-global"):
        for service in ("s3", "ec2", "iam"):
            got = narrow.create_client(service, region_name=region)
            want = stock.create_client(service, region_name=region)
            assert got.meta.endpoint_url == want.meta.endpoint_url
            assert got.meta.region_name == want.meta.region_name
    assert narrow.get_component("data_loader").endpoints_from == "whole"
    _compare(stock, narrow, ["eu-west-1", "us-gov-west-1"])  # and still agrees for envinject's services
    with pytest.raises(botocore.exceptions.UnknownServiceError):
        narrow.create_client("no-such-service", region_name="us-east-1")
    with pytest.raises(botocore.exceptions.UnknownServiceError):  # sts has no waiters: the stock error
        narrow.get_component("data_loader").load_service_model("sts", "waiters-2")


# --- the cache ------------------------------------------------------------------------------------------------


@pytest.fixture
def loader_for(tmp_path: Path) -> Iterator[Any]:
    def make() -> NarrowLoader:
        return NarrowLoader(cache=tmp_path / "envinject")

    yield make


def _cached(tmp_path: Path, exclude: str = "") -> Path:
    (found,) = (p for p in (tmp_path / "envinject").glob("endpoints-*.json") if p.name != exclude)
    return found


def _stock_trimmed() -> dict[str, Any]:
    from envinject.sources.loader import trim

    return trim(botocore.loaders.Loader().load_data("endpoints"))


def test_cache_is_written_privately_and_atomically(loader_for: Any, tmp_path: Path) -> None:
    first = loader_for()
    data, path = first.load_data_with_path("endpoints")
    assert first.endpoints_from == "rebuilt"
    assert first.is_builtin_path(path)
    assert data == _stock_trimmed()
    cached = _cached(tmp_path)
    assert stat.S_IMODE(cached.stat().st_mode) == 0o600
    assert stat.S_IMODE(cached.parent.stat().st_mode) == 0o700
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]  # no temporary file left
    again = loader_for()
    assert again.load_data("endpoints") == data
    assert again.endpoints_from == "cache"
    assert {"secretsmanager", "ssm", "sts", "kms"} <= {s for p in data["partitions"] for s in p["services"]} <= SERVICES


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda p: p.write_text("{not json"), id="corrupt"),
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[:100]), id="truncated"),
        pytest.param(lambda p: p.write_text(p.read_text().replace(botocore.__version__, "0.0.1")), id="stale"),
        pytest.param(lambda p: p.write_text('{"identity": 1, "endpoints": []}'), id="wrong shape"),
        pytest.param(
            lambda p: p.write_text(p.read_text().replace('"services":{', '"services":{"s3":{},', 1)),
            id="more services than ours",
        ),
        pytest.param(lambda p: p.chmod(0o622), id="writable by others"),
    ],
)
def test_a_cache_that_cannot_be_trusted_is_rebuilt(spoil: Any, loader_for: Any, tmp_path: Path) -> None:
    loader_for().load_data("endpoints")
    cached = _cached(tmp_path)
    spoil(cached)
    again = loader_for()
    assert again.load_data("endpoints") == _stock_trimmed()
    assert again.endpoints_from in ("rebuilt", "uncached")
    assert loader_for().load_data("endpoints") == _stock_trimmed()


def test_a_tampered_hostname_in_a_foreign_file_is_not_used(loader_for: Any, tmp_path: Path) -> None:
    """A cache file another user can write could point clients anywhere: it is not read."""
    loader_for().load_data("endpoints")
    cached = _cached(tmp_path)
    cached.write_text(cached.read_text().replace("amazonaws.com", "attacker.example"))
    cached.chmod(0o666)
    data = loader_for().load_data("endpoints")
    assert "attacker.example" not in json.dumps(data)


def test_unwritable_cache_path_still_works(tmp_path: Path) -> None:
    """As in a container with a read-only home: nothing is cached and everything works."""
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would be")
    loader = NarrowLoader(cache=blocker / "envinject")
    assert loader.load_data("endpoints") == _stock_trimmed()
    assert loader.endpoints_from == "uncached"


def test_cache_dir_follows_xdg() -> None:
    assert cache_dir({"XDG_CACHE_HOME": "/c", "HOME": "/h"}) == Path("/c/envinject")
    assert cache_dir({"XDG_CACHE_HOME": "relative", "HOME": "/h"}) == Path("/h/.cache/envinject")
    assert cache_dir({"HOME": "/h"}) == Path("/h/.cache/envinject")


# --- Parameter Store's model, trimmed to the operations envinject calls ----------------------------------------

SSM_CALLS = {
    "GetParameter": {"Name": "/app/db", "WithDecryption": True},
    "GetParameters": {"Names": ["/app/a", "/app/b:3"], "WithDecryption": True},
    "GetParametersByPath": {"Path": "/app/", "Recursive": True, "WithDecryption": True, "NextToken": "t"},
    "DescribeParameters": {"ParameterFilters": [{"Key": "Name", "Option": "Equals", "Values": ["/app/db"]}]},
}
SSM_ANSWERS = {
    "GetParameter": {"Parameter": {"Name": "/app/db", "Type": "SecureString", "Value": "v", "Version": 3,
                                   "LastModifiedDate": 1700000000.5, "ARN": "arn:aws:ssm:us-east-1:1:parameter/db"}},
    "GetParameters": {"Parameters": [{"Name": "/app/a", "Value": "1", "Version": 1}], "InvalidParameters": ["/app/b"]},
    "GetParametersByPath": {"Parameters": [{"Name": "/app/x/y", "Value": "2", "Type": "String"}], "NextToken": "n"},
    "DescribeParameters": {"Parameters": [{"Name": "/app/db", "KeyId": "alias/aws/ssm", "Version": 3}]},
}  # fmt: skip


def _exchange(session: Any, operation: str, status: int, answer: dict[str, Any]) -> tuple[Any, ...]:
    """The request a call sends (URL, target, body) and what the client makes of ``answer``. (An error code that
    only another operation's model names is a plain ClientError on the trimmed model, with the same code.)"""
    from botocore.awsrequest import AWSResponse

    sent: list[tuple[str, Any, bytes]] = []

    class Raw:
        def stream(self, **_: Any) -> Iterator[bytes]:
            yield json.dumps(answer).encode()

    def reply(request: Any, **_: Any) -> AWSResponse:
        sent.append((request.url, request.headers.get("X-Amz-Target"), request.body))
        return AWSResponse(request.url, status, {"Content-Type": "application/x-amz-json-1.1"}, Raw())

    client = session.create_client("ssm", region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}))
    client.meta.events.register("before-send", reply)
    try:
        got: Any = getattr(client, botocore.xform_name(operation))(**SSM_CALLS[operation])
        got.pop("ResponseMetadata", None)
    except botocore.exceptions.ClientError as e:
        got = (type(e).__name__, e.response["Error"])
    return (*sent[0], got)


@pytest.mark.parametrize("operation", sorted(SSM_CALLS))
def test_parameter_store_calls_send_and_read_the_same(
    operation: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _clean_env(monkeypatch, tmp_path, {})
    for attempt in ("rebuilt", "cache"):
        stock, narrow = _sessions(tmp_path / "cache")
        ok = _exchange(narrow, operation, 200, SSM_ANSWERS[operation])
        assert ok == _exchange(stock, operation, 200, SSM_ANSWERS[operation])
        error = {"__type": "ParameterNotFound", "message": "no such parameter"}
        failed = _exchange(narrow, operation, 400, error)
        assert failed == _exchange(stock, operation, 400, error)
        assert narrow.get_component("data_loader").served["ssm/2014-11-06/service-2"] == attempt
    assert failed[-1][0] == "ParameterNotFound"


def test_the_kept_operations_are_the_ones_envinject_calls() -> None:
    """A new Parameter Store call must be added to OPERATIONS, or it would fail as an unknown method."""
    from envinject.sources.loader import OPERATIONS

    source = (Path(__file__).parents[2] / "envinject" / "sources" / "ssm.py").read_text()
    called = set(re.findall(r"client\.([a-z_]+)\(", source))
    assert called == {botocore.xform_name(op) for op in OPERATIONS["ssm"]}


def test_a_rebuild_prunes_the_copies_no_install_can_use(loader_for: Any, tmp_path: Path) -> None:
    """Copies made from a data file that is gone (an uninstalled venv) or changed (an upgrade), and damaged
    ones, are removed when a copy is rebuilt; a copy another live install uses stays; a cached start removes
    nothing."""
    from envinject.sources.loader import _FORMAT

    folder = tmp_path / "envinject"
    folder.mkdir(mode=0o700)
    source = tmp_path / "other-venv-endpoints.json"  # another install's data file, still there
    source.write_text("{}")
    size, mtime = source.stat().st_size, source.stat().st_mtime_ns
    identities = {
        "gone": [_FORMAT, "1.0.0", str(tmp_path / "uninstalled" / "endpoints.json"), size, mtime],
        "changed": [_FORMAT, "1.0.0", str(source), size + 1, mtime],
        "old-format": [_FORMAT - 1, "1.0.0", str(source), size, mtime],
        "live": [_FORMAT, "1.0.0", str(source), size, mtime],
    }
    for label, identity in identities.items():
        (folder / f"endpoints-{label}.json").write_text(json.dumps({"identity": identity, "data": {}}))
    (folder / "endpoints-damaged.json").write_text("{")
    for path in folder.iterdir():
        path.chmod(0o600)
    first = loader_for()
    first.load_data("endpoints")
    assert first.endpoints_from == "rebuilt"
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted([_cached(tmp_path, exclude="endpoints-live.json").name, "endpoints-live.json"])
    (folder / "endpoints-damaged.json").write_text("{")
    again = loader_for()
    again.load_data("endpoints")
    assert again.endpoints_from == "cache"
    assert (folder / "endpoints-damaged.json").exists()
