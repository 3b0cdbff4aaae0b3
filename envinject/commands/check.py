"""`envinject check`: whether a run would work, per reference; sets nothing and prints no value."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from ..system.stdio import write_stdout
from . import Log, fetch_deadline, require_something

if TYPE_CHECKING:
    from ..settings import Settings


def check(settings: Settings, log: Log, *, json_output: bool = False) -> int:
    """Print the report (text or JSON); 0 when a run would work, else 1."""
    from ..check import check as run_check
    from ..check import render
    from ..plan import caller_identity, make_source
    from ..settings import check_options

    check_options(settings)
    require_something(settings)
    with fetch_deadline(settings):
        src = make_source(settings, note=log.note)
        report = run_check(settings, src, os.environ, caller_identity(settings, log.note))
    write_stdout((json.dumps(report.to_json(), indent=2) if json_output else render(report)) + "\n")
    return 0 if report.ok else 1
