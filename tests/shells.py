"""The POSIX shells that the shell-format tests feed, found on PATH: bash is required, dash is optional.

A test that needs dash takes it from :data:`SHELLS` and is skipped, with the reason, where dash is absent.
"""

from __future__ import annotations

import shutil

import pytest

_bash = shutil.which("bash")
if _bash is None:
    raise RuntimeError("the tests need bash on PATH")
BASH: str = _bash
DASH = shutil.which("dash")
NO_DASH = "dash is not on PATH (install it to run the dash round trips)"

#: For ``@pytest.mark.parametrize("sh", SHELLS)``: bash, and dash or a skip saying it is absent.
SHELLS = [
    pytest.param(BASH, id="bash"),
    pytest.param(DASH or "dash", id="dash", marks=pytest.mark.skipif(DASH is None, reason=NO_DASH)),
]
