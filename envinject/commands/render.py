"""`envinject render`: a config file from a template whose tags are references, each value escaped for the
file's format."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..options import RenderOptions
from . import Log, fetch_deadline, warn_if_committable

if TYPE_CHECKING:
    from ..settings import Settings

#: The name the rendered text is bound to inside the pipeline; never a variable of any environment.
_RENDERED = "ENVINJECT_RENDERED"


def render(settings: Settings, options: RenderOptions, log: Log) -> int:
    """Fetch every reference the template names (and the run's secrets, for its variables), then write the
    text: 0600 and atomically to a file, or to stdout. Nothing is written unless every tag has a value."""
    from ..plan import inject, read_template
    from ..system.output_files import check_target, write_private
    from ..system.stdio import write_stdout
    from ..validate import validate

    output = validate(settings, options).output
    if output is not None:
        check_target(output, force=options.force)  # before fetching: a refused target costs no request
    template = read_template(str(options.template), _RENDERED, options.fmt)
    what = ", ".join(repr(r) for r in settings.secrets) or f"the references in {str(options.template)!r}"
    with fetch_deadline(settings, what):
        injection = inject(settings, note=log.note, warn=log.warn, inherited=os.environ, rendered=[template])
    [content] = [b.content for b in injection.bindings if b.name == _RENDERED and b.content is not None]
    if output is None:
        write_stdout(content.decode("utf-8"))
    else:
        write_private(output, content.decode("utf-8"), force=options.force)
        log.note(f"rendered {options.template} to {output}")
        warn_if_committable(output, log)
    return 0
