"""The README shows what the code does."""

import re
from pathlib import Path

from envinject.rules.naming import CATEGORIES

README = (Path(__file__).parents[2] / "README.md").read_text()


def protected_names_table() -> str:
    """The README's table of protected names, as the code's categories give it."""
    rows = [
        "| category | a `VAR=REF` you write | patterns | from | what it stops (from an ordinary key) |",
        "|---|---|---|---|---|",
    ]
    for c in CATEGORIES:
        patterns = ", ".join([*(f"`{p}`" for p in c.patterns), *(f"`{p}` (any case)" for p in c.any_case)])
        explicit = "sets it" if c.explicit else "needs `--allow` too"
        rows.append(f"| {c.title} | {explicit} | {patterns} | {c.sources} | {c.stops} |")
    return "\n".join(rows)


def test_readme_shows_the_protected_categories() -> None:
    section = README.split("<!-- protected-names -->")[1].split("<!-- /protected-names -->")[0]
    assert section.strip() == protected_names_table()


def test_every_promise_names_a_test_that_exists() -> None:
    section = README.split("### Promises and the tests that keep them")[1].split("\n## ")[0]
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", section)
    assert named
    root = Path(__file__).parents[2]
    for path, test in named:
        assert re.search(rf"^def {test}\(", (root / path).read_text(), re.M), f"{path}::{test} does not exist"
