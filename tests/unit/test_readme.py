"""The README shows what the code does."""

import re
from pathlib import Path

from envinject.naming import PROTECTED

README = (Path(__file__).parents[2] / "README.md").read_text()


def test_readme_lists_the_protected_names() -> None:
    section = README.split("<!-- protected-names -->")[1].split("<!-- /protected-names -->")[0]
    assert sorted(re.findall(r"`([A-Z_0-9*]+)`", section)) == sorted(PROTECTED)
