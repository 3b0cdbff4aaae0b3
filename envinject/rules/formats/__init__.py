"""Output formats for ``envinject export``: pure functions from an environment to text.

Each format module has ``render(env) -> str``, keys in sorted order, and escapes for exactly one consumer;
the tests feed every format to that consumer. Names are already valid variable names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ...errors import ConfigError
from . import docker, dotenv, github, jsonfmt, shell
from .docker import UnrepresentableError

__all__ = ["FORMATS", "UnrepresentableError", "render"]

FORMATS: dict[str, Callable[..., str]] = {
    "dotenv": dotenv.render,
    "shell": shell.render,
    "json": jsonfmt.render,
    "docker": docker.render,
    "github": github.render,
}


def render(fmt: str, env: Mapping[str, str], **opts: Any) -> str:
    """``env`` in the format named ``fmt``; ``opts`` go to that format's ``render``."""
    try:
        renderer = FORMATS[fmt]
    except KeyError:
        raise ConfigError(f"unknown format {fmt!r}", hint=f"choose one of {', '.join(FORMATS)}") from None
    return renderer(env, **opts)
