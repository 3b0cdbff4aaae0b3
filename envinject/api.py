"""The Python API: the CLI's rules, as functions."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from .config import Settings, check_options
from .core import environment, inject


def _settings(refs: Sequence[str], options: dict[str, Any]) -> Settings:
    for key in ("secrets", "env_files", "require", "allow"):
        if isinstance(options.get(key), str):
            options[key] = (options[key],)
        elif key in options:
            options[key] = tuple(options[key])
    options["secrets"] = tuple(refs) + tuple(options.get("secrets", ()))
    settings = Settings(**options)
    check_options(settings)
    return settings


def fetch(*refs: str, client: Any = None, **options: Any) -> dict[str, str]:
    """Fetch secrets and return the variables they set, by the CLI's rules (naming, precedence, protected
    names). Options are the settings' names: ``env_files``, ``prefix``, ``keep_case``, ``allow``, ``require``,
    ``region``, ``profile``, ``endpoint_url``, ``timeout``, ``batch``. ``client`` replaces the AWS client: a
    Secrets Manager client, or ``{"sm": client, "ssm": client}`` when references name Parameter Store too.

    Raises :class:`envinject.EnvinjectError` (a subclass saying what failed); nothing is returned on failure.
    """
    settings = _settings(refs, options)
    injection = inject(settings, client=client)
    return environment(Settings(require=settings.require, pristine=True), injection.bindings, {})


def load(*refs: str, override: bool = True, client: Any = None, **options: Any) -> dict[str, str]:
    """Like :func:`fetch`, then set the variables in ``os.environ``, as ``dotenv.load_dotenv`` does.

    With ``override=False`` a variable already set keeps its value. Returns the variables that were set.
    """
    settings = _settings(refs, options)
    injection = inject(settings, client=client)
    final = environment(Settings(require=settings.require, override=override), injection.bindings, os.environ)
    changed = {k: v for k, v in final.items() if os.environ.get(k) != v}
    os.environ.update(changed)
    return changed
