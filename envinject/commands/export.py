"""`envinject export`: the injected variables (never the inherited ones) as a file or on stdout."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..errors import ConfigError
from ..options import ExportOptions
from ..system.stdio import write_stdout
from . import Log, fetch_deadline, require_something, warn_if_committable

if TYPE_CHECKING:
    from ..settings import Settings


def export(settings: Settings, options: ExportOptions, log: Log) -> int:
    """Fetch, then write the variables in ``options.fmt``; the file is 0600 and written atomically.

    Stdout gets nothing until the whole export has succeeded (the ``::add-mask::`` lines included)."""
    from ..plan import inject
    from ..rules.environment import final_sources
    from ..rules.formats import render
    from ..rules.formats.dotenv import EXPANDED, interpolation_hazards
    from ..rules.formats.github import mask_commands
    from ..system.output_files import check_target, write_private
    from ..validate import validate

    output = validate(settings, options).output
    require_something(settings)
    if output is not None:
        check_target(output, force=options.force)  # before fetching: a refused target costs no request
    with fetch_deadline(settings):
        injection = inject(settings, note=log.note, warn=log.warn, inherited=os.environ)
    as_files = [b.name for b in injection.bindings if b.content is not None]
    if as_files:
        raise ConfigError(
            f"export writes variables, and {', '.join(as_files)} would be file secrets, which exist only while a "
            "command runs",
            hint="export them as variables (VAR=REF), or run the command with envinject --file",
        )
    final = injection.plan.environment(injection.bindings)
    env = {name: final[name] for name in final_sources(injection.bindings)}
    text = render(options.fmt, env)
    if options.fmt == "dotenv":
        for name in interpolation_hazards(env):
            log.warn(f"{name} {EXPANDED}")
    stdout = mask_commands(env) if options.github_mask else ""
    if output is None:
        stdout += text
    else:
        write_private(output, text, force=options.force)
        log.note(f"wrote {len(env)} variable(s) to {output}")
        warn_if_committable(output, log)
    write_stdout(stdout)
    return 0
