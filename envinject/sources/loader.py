"""A botocore data loader that knows only the services envinject calls, and serves their largest data files
trimmed to what envinject uses, from a cache. Plugged in through the session's public ``data_loader`` component.

A stock session lists about 450 service folders (twice) to learn that ``secretsmanager`` exists, parses the
1.25 MB ``endpoints.json`` on every start, and 1.5 MB of Parameter Store's model when it is used. Everything else
stays botocore's: the credential chain, endpoint rules, the signer, retries and the client. A service outside the
list is loaded the stock way, with the whole ``endpoints.json``.

The trimmed copies are kept in the user's cache folder (``$XDG_CACHE_HOME/envinject``, else ``~/.cache/envinject``),
named by botocore's version and the data file's path, size and modification time, and written atomically. A copy
that is missing, stale, unreadable, not ours or not what it claims to be is rebuilt from botocore's own file; one
that cannot be written (a read-only home) only costs the time of parsing the full file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import botocore
from botocore.exceptions import DataNotFoundError
from botocore.loaders import Loader

#: What envinject calls, and what botocore's credential chain calls for it (assume-role and web identity, SSO,
#: SSO token refresh, console login).
SERVICES = frozenset({"secretsmanager", "ssm", "sts", "kms", "sso", "sso-oidc", "signin"})
#: The operations envinject calls on a service whose model is large (Parameter Store's is 1.5 MB of JSON); its
#: model is served trimmed to them and the shapes they use. A call outside the list would fail as an unknown
#: method: tests/integration/test_loader.py checks the list against the calls in envinject/sources.
OPERATIONS = {"ssm": frozenset({"GetParameter", "GetParameters", "GetParametersByPath", "DescribeParameters"})}
_ENDPOINTS = "endpoints"
#: Bumped when the layout of the cached file changes.
_FORMAT = 2


def cache_dir(environ: Mapping[str, str]) -> Path | None:
    """``$XDG_CACHE_HOME/envinject`` (an absolute XDG_CACHE_HOME only, as the XDG spec says), else
    ``~/.cache/envinject``; None when there is no home to put it in."""
    base = environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        home = environ.get("HOME") or os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "envinject"


def trim(endpoints: Mapping[str, Any], services: frozenset[str] = SERVICES) -> dict[str, Any]:
    """``endpoints.json`` with every partition's services narrowed to ``services``; the rest as it is."""
    partitions = [
        {**p, "services": {k: v for k, v in p.get("services", {}).items() if k in services}}
        for p in endpoints["partitions"]
    ]
    return {**endpoints, "partitions": partitions}


def trim_model(model: Mapping[str, Any], operations: frozenset[str]) -> dict[str, Any]:
    """A service model with only ``operations``, and every shape they reach (errors included)."""
    kept = {name: op for name, op in model["operations"].items() if name in operations}
    shapes = model["shapes"]
    wanted: set[str] = set()
    todo: list[Any] = [kept]
    while todo:
        node = todo.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                todo.append(child)
        if isinstance(node, dict) and isinstance(node.get("shape"), str) and node["shape"] not in wanted:
            wanted.add(node["shape"])
            todo.append(shapes[node["shape"]])
    return {**model, "operations": kept, "shapes": {k: v for k, v in shapes.items() if k in wanted}}


def _endpoints_valid(data: Any) -> bool:
    return all(isinstance(p, dict) and set(p.get("services", {})) <= SERVICES for p in data["partitions"])


class NarrowLoader(Loader):  # type: ignore[misc]  # botocore has no type hints
    """botocore's Loader, minus the walk over every service folder and most of ``endpoints.json``."""

    def __init__(
        self, extra_search_paths: list[str] | None = None, *, cache: Path | None = None, **kwargs: Any
    ) -> None:
        super().__init__(extra_search_paths=extra_search_paths, **kwargs)
        self._cache_dir = cache
        #: How each trimmed file was served, for tests: "cache", "rebuilt", "uncached" (not writable) or, for
        #: the endpoints, "whole" (widened for a service outside the list).
        self.served: dict[str, str] = {}

    @property
    def endpoints_from(self) -> str | None:
        return self.served.get(_ENDPOINTS)

    def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        if service_name not in SERVICES:
            self._widen()
            return super().load_service_model(service_name, type_name, api_version)
        # The stock method first lists every service on disk to check that this one exists; the versions
        # folder of this one says the same (DataNotFoundError when it has no such data).
        key = ("load_service_model", service_name, type_name, api_version)
        if key not in self._cache:
            try:
                version = api_version or self.determine_latest_version(service_name, type_name)
            except DataNotFoundError:  # no such data for it: the stock method says so in its own words
                return super().load_service_model(service_name, type_name, api_version)
            name = os.path.join(service_name, version, type_name)
            if type_name == "service-2" and service_name in OPERATIONS:
                wanted = OPERATIONS[service_name]
                model, _ = self._trimmed(
                    name, lambda m: trim_model(m, wanted), lambda m: set(m["operations"]) <= wanted
                )
            else:
                model = self.load_data(name)
            self._extras_processor.process(model, self._find_extras(service_name, type_name, version))
            self._cache[key] = model
        return self._cache[key]

    def load_data_with_path(self, name: str) -> Any:
        if name != _ENDPOINTS:
            return super().load_data_with_path(name)
        key = ("load_data_with_path", name)
        if key not in self._cache:
            self._cache[key] = self._trimmed(_ENDPOINTS, trim, _endpoints_valid)
        return self._cache[key]

    def _widen(self) -> None:
        """Give a service outside the list the whole ``endpoints.json``: the endpoint resolver keeps the dict it
        was given, so the trimmed one served to it is filled in place."""
        served = self._cache.get(("load_data_with_path", _ENDPOINTS))
        if served is not None and self.endpoints_from != "whole":
            full = self.file_loader.load_file(served[1])
            served[0].clear()
            served[0].update(full)
            self.served[_ENDPOINTS] = "whole"

    def _source(self, name: str) -> str:
        """The file a stock loader would read ``name`` from (``.json`` or ``.json.gz``, first search path)."""
        for location in self._potential_locations(name):
            for ext in (".json", ".json.gz"):
                if os.path.isfile(location + ext):
                    return str(location + ext)
        raise DataNotFoundError(data_path=name)

    def _trimmed(
        self, name: str, transform: Callable[[Any], dict[str, Any]], valid: Callable[[Any], bool]
    ) -> tuple[dict[str, Any], str]:
        """``transform`` of data file ``name``, from the cache when it holds a valid copy made from the same
        file; the path is the one the stock loader returns."""
        source = self._source(name)
        location = source.removesuffix(".gz").removesuffix(".json")
        st = os.stat(source)
        identity = [_FORMAT, botocore.__version__, os.path.realpath(source), st.st_size, st.st_mtime_ns]
        digest = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:24]
        stem = name.replace("/", "-")
        path = self._cache_dir / f"{stem}-{digest}.json" if self._cache_dir else None
        if path is not None:
            cached = _read(path, identity, valid)
            if cached is not None:
                self.served[name] = "cache"
                return cached, location
        data = transform(self.file_loader.load_file(location))
        written = path is not None and _write(path, {"identity": identity, "data": data})
        if written and path is not None:
            _prune(path, stem)
        self.served[name] = "rebuilt" if written else "uncached"
        return data, location


def _prune(kept: Path, stem: str) -> None:
    """Remove the cached copies of ``stem`` that no botocore on this machine can use any more: made from a data
    file that is gone or has changed (an uninstalled venv, an upgraded botocore), or in an older format. A copy
    another live install still uses (another venv, an ``AWS_DATA_PATH``) stays, so two installs never take
    turns rebuilding. Runs only when a copy was rebuilt, never on a cached start."""
    for other in kept.parent.glob(f"{stem}-*.json"):
        if other == kept:
            continue
        try:
            with open(other, "rb") as f:
                if os.fstat(f.fileno()).st_uid != os.getuid():
                    continue
                identity = json.loads(f.read())["identity"]
            made_as, _version, source, size, mtime = identity
            st = os.stat(source)
            if made_as == _FORMAT and (st.st_size, st.st_mtime_ns) == (size, mtime):
                continue
        except (OSError, ValueError, KeyError, TypeError):
            pass  # unreadable, damaged, or its data file is gone: no one can use it
        with contextlib.suppress(OSError):
            other.unlink()


def _read(path: Path, identity: list[Any], valid: Callable[[Any], bool]) -> dict[str, Any] | None:
    """The cached data, if the file is ours, private, whole, ``valid`` and made from the same data file."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            # A file another user could have written could send requests (and credentials) anywhere.
            if st.st_uid != os.getuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None
            cached = json.loads(f.read())
        data = cached["data"]
        if cached["identity"] != identity or not isinstance(data, dict) or not valid(data):
            return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return data


def _write(path: Path, data: Mapping[str, Any]) -> bool:
    """Write ``data`` to ``path`` atomically (a private temporary file, then a rename); False if it cannot."""
    import tempfile  # only when the cache is rebuilt

    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".endpoints-", dir=path.parent)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True


def use_narrow_loader(session: Any, environ: Mapping[str, str]) -> None:
    """Make ``session`` load its data through a NarrowLoader, with the same search path (``AWS_DATA_PATH``) a
    stock session would use. Registered lazily, as botocore registers its own."""

    def make() -> NarrowLoader:
        paths = session.get_config_variable("data_path")
        extra = None
        if paths is not None:
            extra = [os.path.expanduser(os.path.expandvars(p)) for p in paths.split(os.pathsep)]
        return NarrowLoader(extra, cache=cache_dir(environ))

    session.lazy_register_component("data_loader", make)
