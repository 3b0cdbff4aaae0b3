"""Output formats for ``envinject export``: pure functions from an environment to text.

Each format module has ``render(env) -> str``, keys in sorted order, and escapes for exactly one consumer;
the tests feed every format to that consumer. Names are already valid variable names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

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
    """``env`` in the format named ``fmt`` (one of :data:`FORMATS`; the options were validated); ``opts`` go to
    that format's ``render``."""
    return FORMATS[fmt](env, **opts)
