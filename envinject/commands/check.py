"""`envinject check`: whether a run would work, per reference; sets nothing and prints no value."""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING

from . import Log, fetch_deadline

if TYPE_CHECKING:
    from ..config import Settings


def check(settings: Settings, log: Log, *, json_output: bool = False) -> int:
    """Print the report (text or JSON); 0 when a run would work, else 1."""
    from ..check import check as run_check
    from ..check import render
    from ..core import caller_identity, make_source

    with fetch_deadline(settings):
        src = make_source(settings, note=log.note)
        report = run_check(settings, src, os.environ, caller_identity(settings, log.note))
    sys.stdout.write((json.dumps(report.to_json(), indent=2) if json_output else render(report)) + "\n")
    return 0 if report.ok else 1
