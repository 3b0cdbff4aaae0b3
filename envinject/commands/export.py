"""`envinject export`: the injected variables (never the inherited ones) as a file or on stdout."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import Log, fetch_deadline

if TYPE_CHECKING:
    from ..config import Settings


@dataclass(frozen=True)
class ExportOptions:
    fmt: str = "dotenv"
    #: None: stdout.
    output: Path | None = None
    force: bool = False
    #: Also print ::add-mask:: commands to stdout (GitHub Actions).
    github_mask: bool = False


def export(settings: Settings, options: ExportOptions, log: Log) -> int:
    """Fetch, then write the variables in ``options.fmt``; the file is 0600 and written atomically."""
    from ..core import environment, inject
    from ..environ import final_sources
    from ..files import git_unignored, write_private
    from ..formats import render
    from ..formats.dotenv import interpolation_hazards
    from ..formats.github import mask_commands

    with fetch_deadline(settings):
        injection = inject(settings, note=log.note)
    final = environment(settings, injection.bindings, os.environ)
    env = {name: final[name] for name in final_sources(injection.bindings)}
    text = render(options.fmt, env)
    if options.fmt == "dotenv":
        for name in interpolation_hazards(env):
            log.warn(f"{name} contains ${{...}}: read it with dotenv_values(interpolate=False) or envinject "
                     "--env-file; load_dotenv() would expand it")  # fmt: skip
    if options.github_mask:
        sys.stdout.write(mask_commands(env))
    if options.output is None:
        sys.stdout.write(text)
    else:
        write_private(options.output, text, force=options.force)
        log.note(f"wrote {len(env)} variable(s) to {options.output}")
        if git_unignored(options.output):
            log.warn(f"{options.output} is in a git work tree and not ignored: add it to .gitignore before it is "
                     "committed")  # fmt: skip
    sys.stdout.flush()
    return 0
