"""References written in the environment: ``DB_PASSWORD=sm://prod/db#password`` in the inherited environment
becomes the secret's value in the same name. Pure: the environment comes in as an argument."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import ConfigError, EnvinjectError
from .envfile import Entry
from .naming import is_valid_name
from .refs import FILE_PREFIX, SCHEME, SSM_SCHEME, parse_ref

#: envinject's own settings are never references to resolve, whatever they hold (``ENVINJECT_SECRETS=sm://A``).
_OWN_PREFIX = "ENVINJECT_"


def is_environment_reference(name: str, value: str) -> bool:
    """Whether an inherited variable holds a reference to resolve: ``sm://``, ``ssm://``, or either after
    ``file:``, in a variable that is not one of envinject's own settings."""
    is_ref = value.removeprefix(FILE_PREFIX).startswith((SCHEME, SSM_SCHEME))
    return is_ref and not name.startswith(_OWN_PREFIX) and is_valid_name(name)


def environment_entries(environ: Mapping[str, str]) -> list[tuple[str, Entry]]:
    """References written in the environment: every variable whose value starts with ``sm://`` or ``ssm://``
    becomes that reference, put into the same name (``DB_PASSWORD=sm://prod/db#password``). Pure.

    Bare ARNs and every other value are never references here: an app keeps an ARN as a plain setting. Each
    entry's place is ``$NAME``; a malformed reference is a ConfigError naming the variable, not its value.
    """
    out: list[tuple[str, Entry]] = []
    for name, value in environ.items():
        if not is_environment_reference(name, value):
            continue
        where = f"${name}"
        try:
            out.append((where, parse_ref(f"{name}={value}")))
        except EnvinjectError as e:
            raise ConfigError(
                f"the environment variable {name} holds a reference that cannot be used: {e.message}",
                hint=f"fix it, or run with --no-resolve-env to pass {name} through as it is",
            ) from None
    return out
