"""The README shows what the code does."""

import re
from pathlib import Path

from envinject.rules.naming import PROTECTED

README = (Path(__file__).parents[2] / "README.md").read_text()


def test_readme_lists_the_protected_names() -> None:
    section = README.split("<!-- protected-names -->")[1].split("<!-- /protected-names -->")[0]
    assert sorted(re.findall(r"`([A-Z_0-9*]+)`", section)) == sorted(PROTECTED)


def test_every_promise_names_a_test_that_exists() -> None:
    section = README.split("### Promises and the tests that keep them")[1].split("\n## ")[0]
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", section)
    assert named
    root = Path(__file__).parents[2]
    for path, test in named:
        assert re.search(rf"^def {test}\(", (root / path).read_text(), re.M), f"{path}::{test} does not exist"
