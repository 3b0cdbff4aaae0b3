"""One JSON object of strings. Pure. (Named jsonfmt so that it does not shadow the standard json.)"""

from __future__ import annotations

import json
from collections.abc import Mapping


def render(env: Mapping[str, str]) -> str:
    """A JSON object, keys sorted, non-ASCII kept as is, ending with a newline."""
    return json.dumps(dict(env), ensure_ascii=False, sort_keys=True, indent=2) + "\n"
