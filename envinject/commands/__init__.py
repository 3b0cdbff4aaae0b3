"""One typer-free function per command: what happens on a run, an export, a render, a check, a policy or a push.

The CLI (and the fast entry point) parse the command line into these functions' arguments; the functions
raise :class:`~envinject.errors.EnvinjectError` and return an exit status. Nothing here imports typer.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import STARTED
from ..errors import ConfigError, EnvinjectError
from ..system.stdio import write_stderr

if TYPE_CHECKING:
    from ..configfile import ConfigFile
    from ..settings import Settings

#: Nothing names a secret (no --secret, --file, env file or reference in the environment): an error for export,
#: check and policy; a warning for run.
NOTHING_TO_INJECT = "nothing to inject: pass --secret, set ENVINJECT_SECRETS, or add a config file"


class Log:
    """What a command says on stderr: ``note`` only with -v, ``warn`` always. Never values."""

    def __init__(self, verbose: bool = False) -> None:
        self.verbose = verbose

    def note(self, msg: str) -> None:
        if self.verbose:
            self.warn(msg)

    def warn(self, msg: str) -> None:
        write_stderr(msg)


def elapsed(since: float = STARTED) -> str:
    """Milliseconds since ``since`` (envinject's start), for -v."""
    return f"{(time.perf_counter() - since) * 1000:.0f} ms"


def nothing_to_inject(settings: Settings, environ: Mapping[str, str]) -> bool:
    """Whether no source names anything to inject (flags, ENVINJECT_SECRETS, env files, file secrets, a config
    file, references written in ``environ``)."""
    from ..plan import environment_rule
    from ..rules.envrefs import is_environment_reference

    if settings.secrets or settings.env_files or settings.files:
        return False
    rule = environment_rule(settings, environ)
    return not any(is_environment_reference(n, v, rule) for n, v in environ.items())


def require_something(settings: Settings) -> None:
    """Fail for a command whose output would be empty: a forgotten ENVINJECT_SECRETS is not success."""
    if nothing_to_inject(settings, os.environ):
        raise ConfigError(NOTHING_TO_INJECT)


def load_settings(given: Mapping[str, Any], log: Log, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the command line (``given``: the source options as parsed, ``config`` and ``no_config``
    among them), the environment and the config file, in that order of precedence."""
    from ..settings import resolve_settings

    values = dict(given)
    environ = os.environ if environ is None else environ
    config = config_file(values.pop("config", None), values.pop("no_config", None), log, environ)
    settings = resolve_settings(values, environ, config)
    log.note(f"config: {elapsed()} ({config.path if config is not None else 'no config file'})")
    return settings


def config_file(
    config_path: str | Path | None, no_config: bool | None, log: Log, environ: Mapping[str, str]
) -> ConfigFile | None:
    """The config file the command line names (--config), none (--no-config), or the nearest one found."""
    from ..configfile import find_config, load_config

    if config_path is not None and no_config:
        raise ConfigError("--config and --no-config contradict each other", hint="give one of them")
    if config_path is not None:
        config = load_config(Path(config_path), warn=log.warn)
        if config is None:
            raise EnvinjectError(f"{str(config_path)!r} has no [tool.envinject] table", hint="add one or drop --config")
        return config
    if no_config:
        return None
    return find_config(Path.cwd(), home=Path(environ.get("HOME") or os.path.expanduser("~")), warn=log.warn)


def stage_names(given: Mapping[str, Any], log: Log) -> list[str]:
    """The stages of the config file the command line finds (or names), in the file's order."""
    config = config_file(given.get("config"), given.get("no_config"), log, os.environ)
    if config is None or not config.stages:
        raise ConfigError("--each-stage needs a config file that defines stages", hint="add [stages.NAME] tables")
    return list(config.stages)


def warn_if_committable(path: Path, log: Log) -> None:
    """A file of secrets that git would commit: say so (export and render write such files)."""
    from ..system.output_files import git_unignored

    if git_unignored(path):
        log.warn(f"{path} is in a git work tree and not ignored: add it to .gitignore before it is committed")


def fetch_deadline(settings: Settings, what: str | None = None) -> AbstractContextManager[None]:
    """What every command that talks to AWS runs its requests in: --timeout bounds them all, retries
    included, then exit 125 with one line naming the endpoint, ``what`` was read (the secrets by default)
    and the last failure; SIGINT and SIGTERM end them at once (130, 143)."""
    from ..plan import run_endpoints
    from ..sources.aws import LAST_FAILURES, NetworkFailure
    from ..system.deadline import deadline

    LAST_FAILURES.clear()

    def message() -> str:
        wanted = what or ", ".join(repr(s) for s in settings.secrets) or "the secrets"
        failures = LAST_FAILURES.get()
        hint = "check the network, VPC endpoint or --endpoint-url (--timeout sets the limit)"
        unreachable = [str(f) for f in failures if isinstance(f, NetworkFailure) and f.connecting]
        if unreachable:
            return f"{' and '.join(unreachable)}, retried for {settings.timeout:g}s to read {wanted}; {hint}"
        last = f" (last try: {'; '.join(str(f) for f in failures)})" if failures else ""
        return (
            f"timed out after {settings.timeout:g}s waiting for {run_endpoints(settings, os.environ)} to give "
            f"{wanted}{last}; {hint}"
        )

    return deadline(settings.timeout, message)
