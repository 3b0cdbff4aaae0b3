"""The Python API: the CLI's rules, as functions."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

from .plan import inject
from .records import replace
from .settings import Settings
from .validate import settings_values, validate


def _settings(refs: Sequence[str], options: dict[str, Any]) -> Settings:
    values = settings_values(options, "envinject.fetch")
    values["secrets"] = tuple(refs) + tuple(values.get("secrets", ()))
    settings = Settings(**values)
    validate(settings)
    return settings


def _warn(message: str) -> None:
    # 6: the caller of fetch or load (through inject, Plan.bind and bind_all).
    warnings.warn(f"envinject: {message}", stacklevel=6)


def fetch(*refs: str, client: Any = None, **options: Any) -> dict[str, str]:
    """Fetch secrets and return the variables they set, by the CLI's rules (naming, precedence, protected
    names). Options are the settings' names: ``env_files``, ``prefix``, ``name_case``, ``layered``, ``allow``,
    ``require``, ``region``, ``profile``, ``endpoint_url``, ``timeout``, ``batch``. ``client`` replaces the AWS
    client: a Secrets Manager client, or ``{"sm": client, "ssm": client}`` when references name Parameter Store too.

    Raises :class:`envinject.EnvinjectError` (a subclass saying what failed); nothing is returned on failure.
    """
    settings = _settings(refs, options)
    injection = inject(settings, client=client, warn=_warn)
    return injection.plan.environment(injection.bindings)


def load(*refs: str, override: bool = True, client: Any = None, **options: Any) -> dict[str, str]:
    """Like :func:`fetch`, then set the variables in ``os.environ``, as ``dotenv.load_dotenv`` does.

    With ``override=False`` a variable already set keeps its value. Returns the variables that were set.
    """
    settings = _settings(refs, options)
    injection = inject(settings, client=client, warn=_warn)
    # The same plan, inheriting os.environ: --require counts what is set already, and override decides.
    plan = replace(injection.plan, inherited=os.environ, settings=replace(settings, override=override))
    final = plan.environment(injection.bindings)
    changed = {k: v for k, v in final.items() if os.environ.get(k) != v}
    os.environ.update(changed)
    return changed
